"""The values HTTP signatures pass around, and the time window both schemes share.

:class:`SignatureParams` is what parsing yields before any key is known: the
node reads ``key_id`` from it, finds or fetches that key, then calls
``verify``. The time rules are Mastodon's (app/lib/signed_request.rb), because
Mastodon is the peer most of the fediverse has tuned its clocks against.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from protocol.errors import SignatureExpired

if TYPE_CHECKING:
    from protocol.http import HttpRequest

__all__ = [
    "Scheme",
    "SignatureParams",
    "VerifiedSignature",
    "VerifyPolicy",
    "check_window",
    "has_body",
    "request_target",
]


class Scheme(StrEnum):
    """Which HTTP signature standard a request uses."""

    CAVAGE = "draft-cavage"
    RFC9421 = "rfc9421"


@dataclass(frozen=True, slots=True)
class VerifyPolicy:
    """How far a signature's time may stray from ``now``; defaults are Mastodon's.

    ``max_future_skew`` is signed_request.rb's CLOCK_SKEW_MARGIN (1 h): it bounds
    how far ahead ``created`` may be and is also the grace after expiry.
    ``default_validity`` (5 min) is the lifetime of a signature that gives no
    ``expires``; ``max_age`` (EXPIRATION_WINDOW_LIMIT, 12 h) caps any lifetime.
    """

    max_future_skew: timedelta = timedelta(hours=1)
    max_age: timedelta = timedelta(hours=12)
    default_validity: timedelta = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class SignatureParams:
    """A parsed signature, ready for key lookup by ``key_id`` and then ``verify``.

    ``covered`` holds lower-case header names and pseudo-components (cavage:
    ``(request-target)``; RFC 9421: ``@method``) in signed order. ``created`` and
    ``expires`` are the signed times, or None when the signature states none.
    The remaining fields carry what verification re-creates: for RFC 9421 the
    serialised component identifiers (``"@method"``, ``"content-digest";sf``)
    and the ``@signature-params`` value; for cavage the ``(created)`` /
    ``(expires)`` values exactly as sent.
    """

    scheme: Scheme
    key_id: str
    algorithm: str | None
    covered: tuple[str, ...]
    created: datetime | None
    expires: datetime | None
    signature: bytes
    components: tuple[str, ...] = ()
    signature_params: str | None = None
    pseudo_headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class VerifiedSignature:
    """A signature that verified: which key, whose key, which scheme, signed when."""

    key_id: str
    signer: str
    scheme: Scheme
    created: datetime


def has_body(request: HttpRequest) -> bool:
    """Whether a digest must be signed: any body, and every POST (Mastodon's rule)."""
    return bool(request.body) or request.method == "POST"


def request_target(url: str) -> str:
    """Path and query of an absolute URL, as in the request line (``/inbox?page=2``).

    ``urlsplit`` is memoised by the stdlib, and inbox URLs repeat, so this is
    one cache hit per request rather than a parse.
    """
    parts = urlsplit(url)
    path = parts.path or "/"
    return f"{path}?{parts.query}" if parts.query else path


def check_window(
    created: datetime, expires: datetime | None, now: datetime, policy: VerifyPolicy
) -> None:
    """Raise :class:`SignatureExpired` outside Mastodon's window.

    signed_request.rb: reject when ``created`` is more than the skew margin
    ahead; otherwise the signature lasts until ``expires`` (or ``created`` +
    5 min), never beyond ``created`` + 12 h, plus the skew margin.
    """
    if created > now + policy.max_future_skew:
        raise SignatureExpired(
            f"signature created at {created.isoformat()}, more than "
            f"{policy.max_future_skew} after now ({now.isoformat()})"
        )
    end = created + policy.default_validity if expires is None else expires
    limit = created + policy.max_age
    if end > limit:
        end = limit
    if now > end + policy.max_future_skew:
        raise SignatureExpired(
            f"signature valid until {end.isoformat()} (+{policy.max_future_skew} skew); "
            f"now is {now.isoformat()}"
        )
