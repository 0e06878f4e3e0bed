"""Per-domain health, as pure transitions: a circuit breaker and the unavailable state.

Two of Mastodon's defences against dead peers, which otherwise cost a 10 s
timeout per delivery (mastodon#12445):

* a circuit breaker per host (Stoplight in request_pool.rb / delivery_worker.rb):
  after 10 consecutive failures no request is sent for 60 s; then one probe
  goes out, and its answer closes the circuit or opens it again;
* delivery_failure_tracker.rb: a domain that failed on 7 distinct days
  (with no success in between) becomes *unavailable*: new deliveries to it are
  skipped and pending ones wait. It comes back when it answers again: a
  delivery succeeds, or it sends us an inbound request.

Mastodon never probes an unavailable domain; we send one probe every
``unavailable_probe`` (6 h) so that a peer that only receives still comes back.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from datetime import date, datetime

__all__ = ["DomainState", "HealthPolicy", "after_failure", "after_success", "is_open", "tripped"]


@dataclass(frozen=True, slots=True)
class HealthPolicy:
    """Thresholds; the defaults are Mastodon's (see the module docstring)."""

    failure_threshold: int = 10
    cool_off: timedelta = timedelta(seconds=60)
    failure_days: int = 7
    unavailable_probe: timedelta = timedelta(hours=6)


@dataclass(frozen=True, slots=True)
class DomainState:
    """What we know about one domain's health (mirrors the ``domain_health`` row)."""

    consecutive_failures: int = 0
    circuit_open_until: datetime | None = None
    failure_days: int = 0
    first_failure_day: date | None = None
    last_failure_day: date | None = None
    unavailable: bool = False


def is_open(state: DomainState, now: datetime) -> bool:
    """True while no request may go to the domain (its circuit is open)."""
    return state.circuit_open_until is not None and now < state.circuit_open_until


def tripped(state: DomainState, policy: HealthPolicy) -> bool:
    """True when the next request is a probe: the breaker tripped or the domain is unavailable.

    While :func:`is_open` nothing is sent; once the cool-off has passed, exactly
    one request (the half-open probe) may go, and its result decides.
    """
    return state.unavailable or state.consecutive_failures >= policy.failure_threshold


def after_failure(state: DomainState, now: datetime, policy: HealthPolicy) -> DomainState:
    """The state after a failed request (network error, timeout, 5xx, 408, 429, refused)."""
    failures = state.consecutive_failures + 1
    today = now.date()
    new_day = state.last_failure_day != today
    days = state.failure_days + 1 if new_day else state.failure_days
    unavailable = state.unavailable or days >= policy.failure_days
    open_until = state.circuit_open_until
    if unavailable:
        open_until = now + policy.unavailable_probe
    elif failures >= policy.failure_threshold:
        open_until = now + policy.cool_off
    return replace(
        state,
        consecutive_failures=failures,
        circuit_open_until=open_until,
        failure_days=days,
        first_failure_day=state.first_failure_day or today,
        last_failure_day=today,
        unavailable=unavailable,
    )


def after_success(_state: DomainState) -> DomainState:
    """The state after the domain answered: every failure forgotten (track_success!)."""
    return DomainState()
