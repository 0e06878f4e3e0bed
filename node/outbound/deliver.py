"""One delivery attempt: sign, POST, and read the answer as an :data:`Outcome`.

:func:`classify` and :func:`next_attempt` are pure, so the whole retry policy
is tested without a network. :func:`attempt` is the only I/O: one signed POST
(two when double-knocking), Mastodon's timeouts, no redirects, the response
body drained up to a cap and thrown away.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Final

import aiohttp
from yarl import URL

from protocol.errors import SignatureMalformed, UnsafeURL
from protocol.http import HttpRequest
from protocol.httpsig import Scheme, parse_http_date, sign

if TYPE_CHECKING:
    import random
    from collections.abc import Mapping
    from datetime import datetime

    from node.outbound.signing import SigningThread
    from protocol.keys import SigningKey

__all__ = [
    "ACTIVITY_JSON",
    "DRAIN_LIMIT",
    "RETRY_AFTER_CAP",
    "TIMEOUT",
    "Attempted",
    "Delivered",
    "GiveUp",
    "Outcome",
    "Parcel",
    "RetryAt",
    "RetryPolicy",
    "attempt",
    "classify",
    "next_attempt",
    "other_scheme",
    "retry_after",
]

ACTIVITY_JSON: Final = "application/activity+json"
# Mastodon request.rb: connect 5 s, read/write 10 s; we bound the whole exchange at 10 s.
TIMEOUT: Final = aiohttp.ClientTimeout(total=10, connect=5, sock_connect=5)
# We only need the status; a peer cannot make us read more than this.
DRAIN_LIMIT: Final = 64 * 1024
# A Retry-After further out than this is read as this (the retry window is ~2 days).
RETRY_AFTER_CAP: Final = timedelta(hours=6)
_ERROR_TEXT: Final = 300


@dataclass(frozen=True, slots=True)
class Delivered:
    """The inbox took it (2xx)."""

    status: int


@dataclass(frozen=True, slots=True)
class RetryAt:
    """Try again: at ``when`` if the peer said so (Retry-After), else on the backoff schedule.

    ``knock`` marks a refused signature (401/403): the other scheme may work.
    """

    when: datetime | None
    reason: str
    status: int | None = None
    knock: bool = False


@dataclass(frozen=True, slots=True)
class GiveUp:
    """Never try this row again (410 Gone, another 4xx, a URL we must not call)."""

    reason: str
    status: int | None = None


Outcome = Delivered | RetryAt | GiveUp


def classify(status: int, headers: Mapping[str, str], now: datetime) -> Outcome:
    """What an inbox's answer means for the delivery.

    Mastodon delivery_worker.rb: a 4xx other than 401, 408 and 429 is
    "unsalvageable"; everything else is retried. 429 and 503 may carry
    Retry-After (RFC 9110 §10.2.3); 401/403 first get the other signature scheme.
    """
    if 200 <= status < 300:
        return Delivered(status)
    if status in (429, 503):
        when = retry_after(headers.get("retry-after") or headers.get("Retry-After"), now)
        return RetryAt(when, f"HTTP {status}", status)
    if status in (401, 403):
        return RetryAt(None, f"HTTP {status}: signature refused", status, knock=True)
    if status == 408 or status >= 500:
        return RetryAt(None, f"HTTP {status}", status)
    if status == 410:
        return GiveUp("HTTP 410: the inbox is gone", status)
    if 300 <= status < 400:
        return GiveUp(f"HTTP {status}: redirects are not followed for deliveries", status)
    return GiveUp(f"HTTP {status}", status)


def retry_after(
    value: str | None, now: datetime, cap: timedelta = RETRY_AFTER_CAP
) -> datetime | None:
    """Read ``Retry-After`` (delay-seconds or an HTTP-date) as a moment, at most ``cap`` ahead.

    An unreadable value is ignored (None: use the backoff); a past date means now.
    """
    if value is None:
        return None
    text = value.strip()
    if text.isascii() and text.isdigit():
        delay = timedelta(seconds=int(text)) if len(text) <= 9 else cap
        return now + min(delay, cap)
    try:
        moment = parse_http_date(text)
    except SignatureMalformed:
        return None
    return min(max(moment, now), now + cap)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Backoff after the n-th failed attempt: ``scale * (n-1)**4 + base``, plus jitter.

    Mastodon delivery_worker.rb retries 16 times with ``count**4 + 15`` s and
    random jitter (anchors.md §5): about 2.1 days in all, up to ~3 with jitter.
    ``jitter`` is the largest fraction of the delay added at random, so a mass
    outage does not come back as a thundering herd.
    """

    max_retries: int = 16
    base: timedelta = timedelta(seconds=15)
    scale: timedelta = timedelta(seconds=1)
    jitter: float = 0.5


def next_attempt(
    attempts: int, now: datetime, rng: random.Random, policy: RetryPolicy = RetryPolicy()
) -> datetime | None:
    """When to try again after ``attempts`` failed attempts; None once the retries are spent."""
    if attempts < 1:
        raise ValueError("attempts counts the attempts made, at least 1")
    if attempts > policy.max_retries:
        return None
    delay = policy.scale * (attempts - 1) ** 4 + policy.base
    return now + delay * (1 + policy.jitter * rng.random())


def other_scheme(scheme: Scheme) -> Scheme:
    """The signature scheme to knock with when ``scheme`` was refused."""
    return Scheme.CAVAGE if scheme is Scheme.RFC9421 else Scheme.RFC9421


@dataclass(frozen=True, slots=True)
class Parcel:
    """One activity for one inbox: a checked URL (see protocol.safety) and the exact body."""

    inbox: str
    body: bytes


@dataclass(frozen=True, slots=True)
class Attempted:
    """An attempt's outcome; ``accepted`` is the scheme the peer did not refuse, if known.

    ``requests`` counts the POSTs sent (2 when double-knocking); ``answered``
    is False when no HTTP answer came back at all (network error, timeout).
    """

    outcome: Outcome
    accepted: Scheme | None
    requests: int
    answered: bool


async def attempt(
    http: aiohttp.ClientSession,
    parcel: Parcel,
    signing_key: SigningKey,
    scheme: Scheme,
    now: datetime,
    *,
    signer: SigningThread | None = None,
) -> Attempted:
    """POST ``parcel`` signed with ``scheme``; on 401/403 knock once more with the other one.

    Double-knocking (RFC 9421 first, draft-cavage after a refusal, or the
    reverse) lets us move to RFC 9421 without losing peers that only read
    cavage; the caller remembers ``accepted`` per domain. With ``signer`` the
    signature is computed on its thread (see :mod:`node.outbound.signing`).
    """
    first, answered = await _post(http, parcel, signing_key, scheme, now, signer)
    if not (isinstance(first, RetryAt) and first.knock):
        return Attempted(first, scheme if answered else None, 1, answered)
    second_scheme = other_scheme(scheme)
    second, answered = await _post(http, parcel, signing_key, second_scheme, now, signer)
    refused = isinstance(second, RetryAt) and second.knock
    accepted = second_scheme if answered and not refused else None
    return Attempted(second, accepted, 2, answered)


async def _post(
    http: aiohttp.ClientSession,
    parcel: Parcel,
    key: SigningKey,
    scheme: Scheme,
    now: datetime,
    signer: SigningThread | None,
) -> tuple[Outcome, bool]:
    request = HttpRequest("POST", parcel.inbox, {"content-type": ACTIVITY_JSON}, parcel.body)
    if signer is None:
        signature = sign(request, key, now=now, scheme=scheme)
    else:
        signature = await signer.sign(request, key, now=now, scheme=scheme)
    headers = {"content-type": ACTIVITY_JSON, **signature}
    try:
        async with http.post(
            # encoded=True: send the URL exactly as signed (@target-uri, request-target).
            URL(parcel.inbox, encoded=True),
            data=parcel.body,
            headers=headers,
            allow_redirects=False,
            timeout=TIMEOUT,
        ) as response:
            await _drain(response)
            return classify(response.status, response.headers, now), True
    except UnsafeURL as exc:  # raised by the checked resolver (DNS rebinding)
        return GiveUp(f"refused: {exc}"), False
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        return RetryAt(None, _error_text(exc)), False


async def _drain(response: aiohttp.ClientResponse) -> None:
    """Read and drop the body so the connection can be reused; close it past the cap."""
    remaining = DRAIN_LIMIT
    while remaining >= 0:
        chunk = await response.content.readany()
        if not chunk:
            return
        remaining -= len(chunk)
    response.close()


def _error_text(exc: BaseException) -> str:
    detail = str(exc) or type(exc).__name__
    if isinstance(exc, TimeoutError):
        detail = "timed out"
    return f"network: {type(exc).__name__}: {detail}"[:_ERROR_TEXT]
