"""node.outbound.deliver, the pure half: what an answer means, and when to try again."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from node.outbound.deliver import (
    RETRY_AFTER_CAP,
    Delivered,
    GiveUp,
    RetryAt,
    RetryPolicy,
    classify,
    next_attempt,
    other_scheme,
    retry_after,
)
from protocol.httpsig import Scheme, format_http_date

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


class FixedRandom(random.Random):
    """``random()`` always returns ``value``: no jitter at 0.0, the most just under 1.0."""

    def __init__(self, value: float) -> None:
        super().__init__(0)
        self.value = value

    def random(self) -> float:
        return self.value


# -- classify ------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [200, 201, 202, 204, 299])
def test_2xx_is_delivered(status: int) -> None:
    assert classify(status, {}, NOW) == Delivered(status)


@pytest.mark.parametrize("status", [408, 500, 502, 504, 599])
def test_408_and_5xx_are_retried_on_the_backoff_schedule(status: int) -> None:
    assert classify(status, {}, NOW) == RetryAt(None, f"HTTP {status}", status)


@pytest.mark.parametrize("status", [401, 403])
def test_a_refused_signature_knocks_with_the_other_scheme(status: int) -> None:
    outcome = classify(status, {}, NOW)
    assert isinstance(outcome, RetryAt)
    assert (outcome.knock, outcome.when, outcome.status) == (True, None, status)


@pytest.mark.parametrize("status", [400, 404, 405, 410, 413, 422, 451])
def test_other_4xx_give_up(status: int) -> None:
    outcome = classify(status, {}, NOW)
    assert isinstance(outcome, GiveUp)
    assert outcome.status == status


def test_410_says_the_inbox_is_gone() -> None:
    assert classify(410, {}, NOW) == GiveUp("HTTP 410: the inbox is gone", 410)


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_redirects_are_not_followed(status: int) -> None:
    outcome = classify(status, {"location": "https://elsewhere.example/inbox"}, NOW)
    assert isinstance(outcome, GiveUp)
    assert "redirect" in outcome.reason


@pytest.mark.parametrize("status", [429, 503])
@pytest.mark.parametrize("name", ["retry-after", "Retry-After"])
def test_429_and_503_honour_retry_after_seconds(status: int, name: str) -> None:
    assert classify(status, {name: "120"}, NOW) == RetryAt(
        NOW + timedelta(seconds=120), f"HTTP {status}", status
    )


def test_429_without_retry_after_uses_the_backoff() -> None:
    assert classify(429, {}, NOW) == RetryAt(None, "HTTP 429", 429)


# -- Retry-After ---------------------------------------------------------------------------


def test_retry_after_as_an_http_date() -> None:
    later = NOW + timedelta(minutes=5)
    assert retry_after(format_http_date(later), NOW) == later


def test_retry_after_in_the_past_means_now() -> None:
    assert retry_after(format_http_date(NOW - timedelta(days=1)), NOW) == NOW


@pytest.mark.parametrize("value", ["999999", "99999999999999999999"])
def test_retry_after_is_capped(value: str) -> None:
    assert retry_after(value, NOW) == NOW + RETRY_AFTER_CAP


def test_a_far_retry_after_date_is_capped_too() -> None:
    assert retry_after(format_http_date(NOW + timedelta(days=30)), NOW) == NOW + RETRY_AFTER_CAP


@pytest.mark.parametrize("value", ["", "soon", "-5", "1.5", "Tomorrow, 12:00", "٣"])
def test_an_unreadable_retry_after_is_ignored(value: str) -> None:
    assert retry_after(value, NOW) is None


@settings(max_examples=200)
@given(status=st.integers(100, 599), value=st.text(max_size=40))
def test_classify_accepts_any_status_and_any_retry_after(status: int, value: str) -> None:
    outcome = classify(status, {"retry-after": value}, NOW)
    assert isinstance(outcome, Delivered | RetryAt | GiveUp)
    if isinstance(outcome, RetryAt) and outcome.when is not None:
        assert NOW <= outcome.when <= NOW + RETRY_AFTER_CAP


# -- backoff -------------------------------------------------------------------------------


def test_the_first_retry_comes_after_15_seconds_plus_jitter() -> None:
    assert next_attempt(1, NOW, FixedRandom(0.0)) == NOW + timedelta(seconds=15)
    latest = next_attempt(1, NOW, FixedRandom(0.999))
    assert latest is not None
    assert NOW + timedelta(seconds=22) < latest < NOW + timedelta(seconds=22.5)


def test_the_delay_grows_as_count_to_the_fourth() -> None:
    # Mastodon: count**4 + 15 s, count starting at 0 for the first retry
    assert next_attempt(2, NOW, FixedRandom(0.0)) == NOW + timedelta(seconds=16)
    assert next_attempt(5, NOW, FixedRandom(0.0)) == NOW + timedelta(seconds=4**4 + 15)
    assert next_attempt(16, NOW, FixedRandom(0.0)) == NOW + timedelta(seconds=15**4 + 15)


def test_sixteen_retries_span_about_two_days_then_we_give_up() -> None:
    def total(rng: random.Random) -> timedelta:
        elapsed = timedelta(0)
        for attempts in range(1, 17):
            when = next_attempt(attempts, NOW + elapsed, rng)
            assert when is not None
            elapsed = when - NOW
        return elapsed

    assert timedelta(days=2) < total(FixedRandom(0.0)) < timedelta(days=2.1)
    assert total(FixedRandom(0.999)) < timedelta(days=3.2)
    assert next_attempt(17, NOW, FixedRandom(0.0)) is None


def test_a_policy_can_shorten_the_schedule() -> None:
    policy = RetryPolicy(max_retries=2, base=timedelta(milliseconds=50), scale=timedelta(0))
    assert next_attempt(2, NOW, FixedRandom(0.0), policy) == NOW + timedelta(milliseconds=50)
    assert next_attempt(3, NOW, FixedRandom(0.0), policy) is None


def test_attempts_start_at_one() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        next_attempt(0, NOW, FixedRandom(0.0))


def test_other_scheme_alternates() -> None:
    assert other_scheme(Scheme.RFC9421) is Scheme.CAVAGE
    assert other_scheme(Scheme.CAVAGE) is Scheme.RFC9421
