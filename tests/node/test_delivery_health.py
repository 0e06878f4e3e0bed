"""node.outbound.health: the circuit breaker and the unavailable-domain state, as pure rules."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from node.outbound.health import (
    DomainState,
    HealthPolicy,
    after_failure,
    after_success,
    is_open,
    tripped,
)

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
POLICY = HealthPolicy()


def fail(state: DomainState, times: int, now: datetime = NOW) -> DomainState:
    for _ in range(times):
        state = after_failure(state, now, POLICY)
    return state


def test_nine_failures_leave_the_circuit_closed() -> None:
    state = fail(DomainState(), 9)
    assert state.consecutive_failures == 9
    assert not is_open(state, NOW)
    assert not tripped(state, POLICY)


def test_the_tenth_failure_opens_the_circuit_for_sixty_seconds() -> None:
    state = fail(DomainState(), 10)
    assert state.circuit_open_until == NOW + timedelta(seconds=60)
    assert is_open(state, NOW + timedelta(seconds=59))
    # After the cool-off it is half-open: not open, but the next request is a probe
    assert not is_open(state, NOW + timedelta(seconds=60))
    assert tripped(state, POLICY)


def test_a_failed_probe_opens_it_again_from_the_probe_time() -> None:
    state = fail(DomainState(), 10)
    probe_time = NOW + timedelta(seconds=61)
    state = after_failure(state, probe_time, POLICY)
    assert state.circuit_open_until == probe_time + timedelta(seconds=60)


def test_a_success_closes_the_circuit_and_forgets_everything() -> None:
    state = fail(DomainState(), 12)
    assert after_success(state) == DomainState()


def test_failures_on_one_day_count_as_one_failure_day() -> None:
    state = fail(DomainState(), 30)
    assert (state.failure_days, state.first_failure_day, state.last_failure_day) == (
        1,
        date(2026, 3, 1),
        date(2026, 3, 1),
    )
    assert not state.unavailable


def test_failures_on_seven_distinct_days_make_the_domain_unavailable() -> None:
    state = DomainState()
    for day in range(6):
        state = after_failure(state, NOW + timedelta(days=day), POLICY)
    assert (state.failure_days, state.unavailable) == (6, False)

    seventh = NOW + timedelta(days=9)  # the days need not be consecutive
    state = after_failure(state, seventh, POLICY)
    assert (state.failure_days, state.unavailable) == (7, True)
    assert state.first_failure_day == date(2026, 3, 1)
    assert state.last_failure_day == date(2026, 3, 10)
    # Unavailable: paused, with one probe every six hours
    assert state.circuit_open_until == seventh + timedelta(hours=6)
    assert tripped(state, POLICY)


def test_a_success_between_failure_days_starts_the_count_again() -> None:
    state = DomainState()
    for day in range(6):
        state = after_failure(state, NOW + timedelta(days=day), POLICY)
    state = after_success(state)
    state = after_failure(state, NOW + timedelta(days=7), POLICY)
    assert (state.failure_days, state.unavailable) == (1, False)


def test_an_unavailable_domain_stays_so_until_it_answers() -> None:
    state = DomainState(unavailable=True, failure_days=7)
    state = after_failure(state, NOW, POLICY)
    assert state.unavailable
    assert state.circuit_open_until == NOW + timedelta(hours=6)
    assert not after_success(state).unavailable


def test_transitions_never_change_their_argument() -> None:
    before = DomainState()
    after_failure(before, NOW, POLICY)
    assert before == DomainState()
