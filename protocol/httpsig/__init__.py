"""HTTP signatures, both kinds the fediverse uses: draft-cavage and RFC 9421.

Inbound, in two steps so the node can find the key between them::

    params = parse_signature(request)          # SignatureMissing / Malformed / UnsupportedAlgorithm
    key = node_looks_up(params.key_id)         # fetch or cache: not our business
    verified = verify(request, params, key, now=clock())

``verify`` raises one :mod:`protocol.errors` class per reason (coverage, time,
digest, signature), so the node can log why and answer 401. Outbound,
:func:`sign` returns the headers to add; the node does "double-knocking"
(RFC 9421 first, cavage after a 401/403) and remembers per peer what worked.

RFC 9421 is chosen whenever ``Signature-Input`` is present, as Mastodon 4.5
does; otherwise ``Signature`` (or ``Authorization: Signature …``) is cavage.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from protocol.errors import SignatureMalformed, SignatureMissing
from protocol.httpsig import cavage, rfc9421
from protocol.httpsig.digest import (
    check_content_digest,
    check_digest,
    content_digest_header,
    digest_header,
)
from protocol.httpsig.httpdate import format_http_date, parse_http_date
from protocol.httpsig.model import (
    Scheme,
    SignatureParams,
    VerifiedSignature,
    VerifyPolicy,
)

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime, timedelta

    from protocol.http import HttpRequest
    from protocol.keys import PublicKey, SigningKey

__all__ = [
    "Scheme",
    "SignatureParams",
    "VerifiedSignature",
    "VerifyPolicy",
    "check_content_digest",
    "check_digest",
    "content_digest_header",
    "digest_header",
    "format_http_date",
    "parse_http_date",
    "parse_signature",
    "sign",
    "sign_cavage",
    "sign_rfc9421",
    "verify",
]

_DEFAULT_POLICY = VerifyPolicy()
_RFC9421 = Scheme.RFC9421  # a module global is a cheaper lookup than the enum attribute


def parse_signature(request: HttpRequest) -> SignatureParams:
    """Read the request's signature without verifying it, so its key can be found."""
    headers = request.headers
    signature_input = headers.get("signature-input")
    if signature_input is not None:
        signature = headers.get("signature")
        if signature is None:
            raise SignatureMalformed("Signature-Input without a Signature header")
        return rfc9421.parse(signature_input, signature)
    value = headers.get("signature")
    if value is None:
        authorization = headers.get("authorization", "")
        if authorization[:10].lower() != "signature ":
            raise SignatureMissing("no Signature, Signature-Input or Authorization: Signature")
        value = authorization[10:]
    return cavage.parse(request, value)


def verify(
    request: HttpRequest,
    params: SignatureParams,
    key: PublicKey,
    *,
    now: datetime,
    policy: VerifyPolicy = _DEFAULT_POLICY,
) -> VerifiedSignature:
    """Verify ``params`` (from :func:`parse_signature`) against ``key`` at time ``now``.

    Raises UnsupportedAlgorithm, ComponentNotCovered, SignatureExpired,
    DigestMismatch or InvalidSignature, checked in that order.
    """
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    scheme = params.scheme
    if scheme is _RFC9421:
        created = rfc9421.verify(request, params, key, now, policy)
    else:
        created = cavage.verify(request, params, key, now, policy)
    return VerifiedSignature(key.id, key.owner, scheme, created)


def sign_cavage(
    request: HttpRequest,
    key: SigningKey,
    *,
    now: datetime,
    covered: Sequence[str] | None = None,
) -> dict[str, str]:
    """Headers to add for a draft-cavage signature (what Mastodon sends and expects).

    Returns ``date``, ``digest`` (when there is a body), ``host`` (when the
    request lacks one) and ``signature``. ``covered`` defaults to
    ``(request-target) host date digest [content-type]`` for a POST and
    ``(request-target) host date`` for a GET.
    """
    return cavage.sign(request, key, now=now, covered=covered)


def sign_rfc9421(
    request: HttpRequest,
    key: SigningKey,
    *,
    now: datetime,
    label: str = "sig1",
    expires_in: timedelta | None = None,
) -> dict[str, str]:
    """Headers to add for an RFC 9421 signature: content-digest, signature-input, signature.

    Covers ``"@method" "@target-uri"``, plus ``content-digest`` with a body and
    ``content-type`` when present; parameters ``created``, ``keyid``, ``alg``.
    """
    return rfc9421.sign(request, key, now=now, label=label, expires_in=expires_in)


def sign(request: HttpRequest, key: SigningKey, *, now: datetime, scheme: Scheme) -> dict[str, str]:
    """Sign with ``scheme``, for double-knocking: RFC 9421 first, cavage on 401/403."""
    if scheme is Scheme.RFC9421:
        return rfc9421.sign(request, key, now=now)
    return cavage.sign(request, key, now=now)
