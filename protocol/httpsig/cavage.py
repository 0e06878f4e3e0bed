"""draft-cavage-http-signatures-12: what Mastodon and most of the fediverse send.

``Signature: keyId="…",algorithm="rsa-sha256",headers="(request-target) host
date digest",signature="<base64>"``. The signing string is one ``name: value``
line per covered header, joined by ``\\n`` (draft-cavage-12 §2.3).

Interop rules, from Mastodon's app/lib/signed_request.rb unless noted:
``algorithm`` is ``rsa-sha256`` or ``hs2019`` (or absent, meaning hs2019, whose
actual algorithm comes from the key); ``(created)``/``(expires)`` only with
hs2019; a request must sign ``(request-target)``, ``host``, ``date`` or
``(created)``, and ``digest`` when it has a body. Verification tries the
request target with its query string, then without (GoToSocial http_signatures.md:
some senders drop the query).
"""

from __future__ import annotations

from binascii import b2a_base64
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from protocol.errors import (
    ComponentNotCovered,
    InvalidSignature,
    SignatureMalformed,
    UnsupportedAlgorithm,
)
from protocol.httpsig.cavage_fields import read_fields
from protocol.httpsig.digest import check_digest, digest_header
from protocol.httpsig.httpdate import format_http_date, parse_http_date
from protocol.httpsig.model import (
    Scheme,
    SignatureParams,
    VerifyPolicy,
    check_window,
    has_body,
    request_target,
)
from protocol.httpsig.sfv import decode_base64

if TYPE_CHECKING:
    from collections.abc import Sequence

    from protocol.http import HttpRequest
    from protocol.keys import PublicKey, SigningKey

__all__ = ["parse", "sign", "verify"]

_ACCEPTED = frozenset({"rsa-sha256", "hs2019"})
_PSEUDO = frozenset({"(request-target)", "(created)", "(expires)"})
# headers="…" value -> (covered names, whether a pseudo-header other than
# (request-target) is among them). Senders repeat one list for every request.
_COVERED: dict[str, tuple[tuple[str, ...], bool]] = {}
_COVERED_LIMIT = 64
_CAVAGE = Scheme.CAVAGE  # a module global is a cheaper lookup than the enum attribute


def parse(request: HttpRequest, value: str) -> SignatureParams:
    """Read a cavage ``Signature`` value (or ``Authorization: Signature`` parameters)."""
    key_id, algorithm, headers, encoded, params = read_fields(value)
    if algorithm is not None and algorithm.lower() not in _ACCEPTED:
        raise UnsupportedAlgorithm(f"algorithm {algorithm[:40]!r} is not rsa-sha256 or hs2019")
    covered, others = _covered(_default(algorithm) if headers is None else headers)
    pseudo: tuple[tuple[str, str], ...] = ()
    created = expires = None
    if others:
        pseudo, created, expires = _times(params, covered, algorithm)
    if created is None and "date" in covered:
        date = request.headers.get("date")
        created = None if date is None else parse_http_date(date)
    return SignatureParams(
        _CAVAGE,
        key_id,
        algorithm,
        covered,
        created,
        expires,
        decode_base64(encoded, "signature"),
        (),
        None,
        pseudo,
    )


def _covered(headers: str) -> tuple[tuple[str, ...], bool]:
    """The covered names, lower-cased, and whether (created)/(expires)/others appear."""
    known = _COVERED.get(headers)
    if known is not None:
        return known
    lowered = headers.lower()
    known = tuple(lowered.split()), "(" in lowered.replace("(request-target)", "")
    if len(_COVERED) >= _COVERED_LIMIT:
        _COVERED.clear()
    _COVERED[headers] = known
    return known


def _default(algorithm: str | None) -> str:
    # draft-cavage-12 §2.1.6 defaults to (created); earlier drafts (rsa-sha256) to date.
    return "date" if algorithm is not None and algorithm.lower() == "rsa-sha256" else "(created)"


def _times(
    params: dict[str, str], covered: tuple[str, ...], algorithm: str | None
) -> tuple[tuple[tuple[str, str], ...], datetime | None, datetime | None]:
    """The ``(created)``/``(expires)`` pseudo-headers: raw values and times."""
    pseudo: list[tuple[str, str]] = []
    created = expires = None
    for name in covered:
        if name[:1] != "(":
            continue
        if name not in _PSEUDO:
            raise SignatureMalformed(f"unknown pseudo-header {name[:40]}")
        if name == "(request-target)":
            continue
        # draft-cavage-12 §2.3: (created)/(expires) are an error with rsa-*/hmac-*/ecdsa-*.
        if algorithm is not None and algorithm.lower() != "hs2019":
            raise SignatureMalformed(f"{name} is only allowed with hs2019")
        raw = params.get(name[1:-1])
        if raw is None:
            raise SignatureMalformed(f"{name} is signed but its parameter is missing")
        moment = _timestamp(raw, name)
        pseudo.append((name, raw))
        if name == "(created)":
            created = moment
        else:
            expires = moment
    return tuple(pseudo), created, expires


def _timestamp(raw: str, name: str) -> datetime:
    # created is an integer; expires may carry a fraction (draft-cavage-12 §2.1.4-5).
    whole, _, fraction = raw.partition(".") if name == "(expires)" else (raw, "", "")
    if not (0 < len(whole) <= 15 and whole.isascii() and whole.isdigit()) or not (
        fraction == "" or (len(fraction) <= 9 and fraction.isascii() and fraction.isdigit())
    ):
        raise SignatureMalformed(f"{name} is not a Unix timestamp")
    try:
        return datetime.fromtimestamp(float(raw) if fraction else int(whole), UTC)
    except (OverflowError, ValueError, OSError):
        raise SignatureMalformed(f"{name} is out of range") from None


def verify(
    request: HttpRequest,
    params: SignatureParams,
    key: PublicKey,
    now: datetime,
    policy: VerifyPolicy,
) -> datetime:
    """Check algorithm, coverage, time window, digest, then the signature; return created."""
    algorithm = params.algorithm
    if algorithm is not None and not (algorithm == "rsa-sha256" and key.algorithm == "rsa"):
        _check_algorithm(algorithm, key)
    covered = params.covered
    _check_coverage(covered, has_body(request))
    created = params.created
    if created is None:
        raise InvalidSignature("the signed Date header is missing from the request")
    check_window(created, params.expires, now, policy)
    if "digest" in covered:
        check_digest(request.headers.get("digest"), request.body)
    target = request_target(request.url)
    try:
        key.verify(params.signature, _signing_string(request, params, target))
    except InvalidSignature:
        path, query, _ = target.partition("?")
        if not query:
            raise
        # GoToSocial and Mastodon: some senders sign the target without its query.
        key.verify(params.signature, _signing_string(request, params, path))
    return created


def _check_algorithm(algorithm: str | None, key: PublicKey) -> None:
    if algorithm is None:
        return
    label = algorithm.lower()
    if label not in _ACCEPTED:
        raise UnsupportedAlgorithm(f"algorithm {algorithm[:40]!r} is not rsa-sha256 or hs2019")
    if label == "rsa-sha256" and key.algorithm != "rsa":
        raise UnsupportedAlgorithm(f"algorithm rsa-sha256 with an {key.algorithm} key")


def _check_coverage(covered: tuple[str, ...], body: bool) -> None:
    if (
        "(request-target)" in covered
        and "host" in covered
        and ("date" in covered or "(created)" in covered)
        and (not body or "digest" in covered)
    ):
        return
    wanted = ["(request-target)", "host", "date" if "(created)" not in covered else "(created)"]
    wanted += ["digest"] if body else []
    missing = [name for name in wanted if name not in covered]
    raise ComponentNotCovered(f"the signature must cover {' '.join(missing)}")


def _signing_string(request: HttpRequest, params: SignatureParams, target: str) -> bytes:
    headers = request.headers
    pseudo = params.pseudo_headers
    lines = []
    for name in params.covered:
        if name == "(request-target)":
            lines.append(f"(request-target): {request.method.lower()} {target}")
            continue
        if name[:1] == "(":
            value = next((raw for label, raw in pseudo if label == name), None)
        else:
            value = headers.get(name)
            if value is None and name == "host":
                value = request.authority
        if value is None:
            raise InvalidSignature(f"signed header {name[:40]} is missing from the request")
        if "\n" in value:
            raise InvalidSignature(f"header {name[:40]} contains a line break")
        lines.append(f"{name}: {value}")
    try:
        return "\n".join(lines).encode("latin-1")
    except UnicodeEncodeError:
        raise InvalidSignature("a signed header is not Latin-1 text") from None


def sign(
    request: HttpRequest,
    key: SigningKey,
    *,
    now: datetime,
    covered: Sequence[str] | None = None,
) -> dict[str, str]:
    """Headers to add for a cavage signature: date, digest (with a body), host, signature."""
    added = {"date": format_http_date(now)}
    body = has_body(request)
    if body:
        added["digest"] = digest_header(request.body)
    if "host" not in request.headers:
        added["host"] = request.authority
    names = tuple(n.lower() for n in covered) if covered is not None else _sign_default(request)
    if '"' in key.id or "\\" in key.id:
        raise ValueError(f"key id {key.id!r} cannot be quoted in a Signature header")
    created = str(int(now.timestamp()))
    merged = {**request.headers, **added}
    lines = []
    for name in names:
        if name == "(request-target)":
            value = f"{request.method.lower()} {request_target(request.url)}"
        elif name == "(created)":
            value = created
        elif name in merged:
            value = merged[name]
        else:
            raise ValueError(f"cannot sign {name}: the request has no such header")
        lines.append(f"{name}: {value}")
    signature = key.sign("\n".join(lines).encode("latin-1"))
    # Mastodon sends rsa-sha256; hs2019 for Ed25519, and whenever (created) is signed.
    hs2019 = key.algorithm != "rsa" or "(created)" in names
    algorithm = "hs2019" if hs2019 else "rsa-sha256"
    extra = f"created={created}," if "(created)" in names else ""
    added["signature"] = (
        f'keyId="{key.id}",algorithm="{algorithm}",{extra}headers="{" ".join(names)}",'
        f'signature="{b2a_base64(signature, newline=False).decode("ascii")}"'
    )
    return added


def _sign_default(request: HttpRequest) -> tuple[str, ...]:
    # What Mastodon's request.rb signs: (request-target) host date [digest content-type].
    if not has_body(request):
        return ("(request-target)", "host", "date")
    extra = ("content-type",) if "content-type" in request.headers else ()
    return ("(request-target)", "host", "date", "digest", *extra)
