"""The parameter list of a draft-cavage ``Signature`` header, read strictly and fast.

``keyId="…",algorithm="…",headers="…",signature="…"`` is an RFC 7230
auth-param list (draft-cavage-12 §4.1). Every inbound request is parsed before
its key is known, so the shape every sender writes is read with one
``str.split`` and anything else goes to a strict scanner.
"""

from __future__ import annotations

import re

from protocol.errors import SignatureMalformed

__all__ = ["read_fields"]

# RFC 7230 auth-param: token BWS "=" BWS ( token / quoted-string ), for the slow path.
_PARAM = re.compile(
    r"[ \t]*([A-Za-z][A-Za-z0-9_.-]*)[ \t]*=[ \t]*"
    r'(?:"((?:[^"\\\x00-\x08\x0a-\x1f\x7f]|\\[^\x00-\x08\x0a-\x1f\x7f])*+)"'
    r"|([!#$%&'*+.^_`|~0-9A-Za-z-]+))[ \t]*"
)
_UNESCAPE = re.compile(r"\\(.)")
# Fast path: the one shape Mastodon, GoToSocial, Misskey and Pleroma all write,
# keyId="…",algorithm="…",headers="…",signature="…" in this order. Split on
# '"', it is exactly these pieces; str.split runs in C, a regex or a loop
# over the pieces costs twice as much or more.
_COMMON = ("keyId=", ",algorithm=", ",headers=", ",signature=")


def read_fields(value: str) -> tuple[str, str | None, str | None, str, dict[str, str]]:
    """keyId, algorithm, headers, signature, and every parameter (for created/expires)."""
    pieces = value.split('"')
    if (
        len(pieces) == 9
        and (pieces[0], pieces[2], pieces[4], pieces[6], pieces[8]) == (*_COMMON, "")
        and "\\" not in value
        and pieces[1]
        and pieces[1].isascii()
        and pieces[1].isprintable()
    ):
        return pieces[1], pieces[3], pieces[5], pieces[7], {}  # no created/expires here
    params = _split_params(value) or _scan_params(value)
    key_id, encoded = params.get("keyid"), params.get("signature")
    if not key_id or encoded is None:
        raise SignatureMalformed("Signature needs keyId and signature")
    if not (key_id.isascii() and key_id.isprintable()):
        raise SignatureMalformed("keyId is not printable ASCII")
    return key_id, params.get("algorithm"), params.get("headers"), encoded, params


def _split_params(value: str) -> dict[str, str] | None:
    """Fast path for the shape every sender writes: ``k="v",k="v"``, no escapes.

    Splitting on ``"`` leaves the values at odd indices and ``k=`` then ``,k=``
    between them. Anything else (spaces, escapes, unquoted values, repeats)
    returns None and the strict scanner decides.
    """
    pieces = value.split('"')
    count = len(pieces)
    if count < 3 or not count & 1 or pieces[-1] or "\\" in value:
        return None
    params: dict[str, str] = {}
    name = pieces[0]
    for index in range(1, count, 2):
        if name[-1:] != "=":
            return None
        params[name[:-1].lower()] = pieces[index]
        name = pieces[index + 1]
        if name[:1] == ",":
            name = name[1:]
        elif name:
            return None
    names = "".join(params)
    if len(params) != count // 2 or "" in params or not (names.isascii() and names.isalpha()):
        return None
    return params


def _scan_params(value: str) -> dict[str, str]:
    """Strict auth-param list: quoted strings with escapes, or bare tokens."""
    params: dict[str, str] = {}
    pos, size = 0, len(value)
    while True:
        match = _PARAM.match(value, pos)
        if match is None:
            raise SignatureMalformed(f"Signature does not parse at offset {pos}")
        name = match.group(1).lower()
        if name in params:
            raise SignatureMalformed(f"Signature repeats {name}")
        quoted, bare = match.group(2, 3)
        params[name] = bare if quoted is None else _UNESCAPE.sub(r"\1", quoted)
        pos = match.end()
        if pos == size:
            return params
        if value[pos] != ",":
            raise SignatureMalformed(f"Signature does not parse at offset {pos}")
        pos += 1
