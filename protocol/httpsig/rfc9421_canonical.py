"""RFC 9421 fast path: a ``Signature-Input`` already in canonical RFC 8941 form.

Single spaces, plain lower-case component names, integer or escape-free string
parameters: such input is its own serialisation, so the text after ``label=``
is the ``@signature-params`` value as it stands and nothing is re-serialised.
It is read in two parts: ``label=("@method" …`` (the component list), which a
sender repeats on every request and so is validated once and remembered, and
the ``;name=value`` parameters. Anything else returns None and
:mod:`protocol.httpsig.rfc9421` parses it with the general RFC 8941 parser.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from protocol.errors import SignatureMalformed

if TYPE_CHECKING:
    from protocol.httpsig import sfv

__all__ = ["DERIVED", "canonical_head", "canonical_params"]

# The derived components a request has (RFC 9421 §2.2).
DERIVED = frozenset(
    {"@method", "@target-uri", "@authority", "@scheme", "@request-target", "@path", "@query"}
)
_NAME = r"[a-z*][a-z0-9_.*-]*"
_FAST_HEAD = re.compile(rf"({_NAME})=\((\"[@a-z0-9][a-z0-9_.-]*\"(?: \"[@a-z0-9][a-z0-9_.-]*\")*|)")
_FAST_PARAMS = re.compile(rf"(?:;{_NAME}=(?:[1-9][0-9]{{0,14}}|0|\"[ !#-\[\]-~]*\"))*")
_FAST_PARAM = re.compile(rf";({_NAME})=(?:([0-9]+)|\"([^\"]*)\")")
# The parameters as Mastodon and we write them, read in one match.
_COMMON_PARAMS = re.compile(
    r';created=([1-9][0-9]{0,14}|0);keyid="([ !#-\[\]-~]*)"(?:;alg="([ !#-\[\]-~]*)")?'
)
# "label=(components" -> (label, component identifiers, component names).
_HEADS: dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]] = {}
_HEADS_LIMIT = 64


def canonical_params(tail: str) -> dict[str, sfv.BareItem] | None:
    """``;name=value…`` in canonical form as a dict; None when not canonical or repeated."""
    common = _COMMON_PARAMS.fullmatch(tail)
    if common is not None:
        created, key_id, algorithm = common.groups()
        params: dict[str, sfv.BareItem] = {"created": int(created), "keyid": key_id}
        if algorithm is not None:
            params["alg"] = algorithm
        return params
    if _FAST_PARAMS.fullmatch(tail) is None:
        return None
    found = _FAST_PARAM.findall(tail)
    params = {key: (int(number) if number else text) for key, number, text in found}
    if len(params) != len(found):
        return None  # a repeated parameter: the general parser applies RFC 8941's rule
    return params


def canonical_head(head: str) -> tuple[str, tuple[str, ...], tuple[str, ...]] | None:
    """(label, identifiers, names) of ``label=("@method" "…"``; None when not canonical.

    Validated once per distinct list and remembered (bounded): a refusal raises
    every time, since only valid lists are stored.
    """
    known = _HEADS.get(head)
    if known is not None:
        return known
    match = _FAST_HEAD.fullmatch(head)
    if match is None:
        return None
    label, inner = match.group(1, 2)
    identifiers = tuple(inner.split(" ")) if inner else ()
    names = tuple([identifier[1:-1] for identifier in identifiers])
    for name in names:
        if name[0] == "@" and name not in DERIVED:
            raise SignatureMalformed(f"component {name[:40]} is not supported for requests")
    if len(set(names)) != len(names):
        raise SignatureMalformed("a component is covered twice")
    if len(_HEADS) >= _HEADS_LIMIT:
        _HEADS.clear()
    _HEADS[head] = label, identifiers, names
    return label, identifiers, names
