"""The time window: Mastodon's rules (app/lib/signed_request.rb), at their edges."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from protocol import keys
from protocol.errors import SignatureExpired
from protocol.http import HttpRequest
from protocol.httpsig import (
    VerifyPolicy,
    parse_signature,
    sign_cavage,
    sign_rfc9421,
    verify,
)
from protocol.httpsig.model import check_window

ACTOR = "https://coop.example/users/ana"
CREATED = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)
POLICY = VerifyPolicy()
SECOND = timedelta(seconds=1)


def test_defaults_are_mastodons() -> None:
    assert POLICY.max_future_skew == timedelta(hours=1)
    assert POLICY.max_age == timedelta(hours=12)
    assert POLICY.default_validity == timedelta(minutes=5)


@pytest.mark.parametrize(
    ("age", "passes"),
    [
        (timedelta(0), True),
        (timedelta(hours=1, minutes=5), True),  # 5 min validity + 1 h skew, inclusive
        (timedelta(hours=1, minutes=5) + SECOND, False),
        (-timedelta(hours=1), True),  # created up to 1 h ahead of our clock
        (-timedelta(hours=1) - SECOND, False),
        (timedelta(hours=13), False),
    ],
)
def test_without_expires(age: timedelta, passes: bool) -> None:
    now = CREATED + age
    if passes:
        check_window(CREATED, None, now, POLICY)
    else:
        with pytest.raises(SignatureExpired):
            check_window(CREATED, None, now, POLICY)


@pytest.mark.parametrize(
    ("expires_after", "age", "passes"),
    [
        (timedelta(minutes=30), timedelta(hours=1, minutes=30), True),
        (timedelta(minutes=30), timedelta(hours=1, minutes=30) + SECOND, False),
        # An expiry beyond 12 h is capped at 12 h: a 13 h old signature is the limit.
        (timedelta(days=7), timedelta(hours=13), True),
        (timedelta(days=7), timedelta(hours=13) + SECOND, False),
        (timedelta(days=7), timedelta(hours=14), False),
        # An expiry before creation leaves only the skew margin.
        (-timedelta(minutes=1), timedelta(minutes=59), True),
        (-timedelta(minutes=1), timedelta(minutes=59) + SECOND, False),
    ],
)
def test_with_expires(expires_after: timedelta, age: timedelta, passes: bool) -> None:
    expires = CREATED + expires_after
    now = CREATED + age
    if passes:
        check_window(CREATED, expires, now, POLICY)
    else:
        with pytest.raises(SignatureExpired):
            check_window(CREATED, expires, now, POLICY)


def test_a_stricter_policy_applies(ed_key: keys.SigningKey) -> None:
    # Given Takahe's +-60 s instead of Mastodon's hour
    strict = VerifyPolicy(max_future_skew=timedelta(seconds=60), default_validity=timedelta(0))
    request = HttpRequest.build("GET", "https://care.example/users/bob", {"Host": "care.example"})
    request = request.with_headers(sign_cavage(request, ed_key, now=CREATED))
    params = parse_signature(request)
    public = ed_key.public(ACTOR)
    verify(request, params, public, now=CREATED + timedelta(seconds=60), policy=strict)
    with pytest.raises(SignatureExpired):
        verify(request, params, public, now=CREATED + timedelta(seconds=61), policy=strict)


def test_date_about_an_hour_and_five_minutes_old_passes_by_default(
    ed_key: keys.SigningKey,
) -> None:
    request = HttpRequest.build("GET", "https://care.example/users/bob", {"Host": "care.example"})
    request = request.with_headers(sign_cavage(request, ed_key, now=CREATED))
    verify(
        request, parse_signature(request), ed_key.public(ACTOR), now=CREATED + timedelta(minutes=64)
    )


def test_rfc9421_expires_is_honoured_up_to_the_cap(ed_key: keys.SigningKey) -> None:
    request = HttpRequest.build("GET", "https://care.example/users/bob", {"Host": "care.example"})
    added = sign_rfc9421(request, ed_key, now=CREATED, expires_in=timedelta(days=2))
    request = request.with_headers(added)
    params = parse_signature(request)
    public = ed_key.public(ACTOR)
    verify(request, params, public, now=CREATED + timedelta(hours=12, minutes=59))
    with pytest.raises(SignatureExpired):
        verify(request, params, public, now=CREATED + timedelta(hours=13) + SECOND)


@pytest.fixture(scope="module")
def ed_key() -> keys.SigningKey:
    return keys.generate_ed25519(f"{ACTOR}#ed25519-key")
