"""node.outbound.queue and node.store.deliveries: the outbox rows, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

import pytest
from deliverykit import SENDER, activity, sender_settings
from sqlalchemy import func, select

from node.errors import InvalidInput
from node.outbound.queue import domain_of, enqueue, mark_domain_alive
from node.store import deliveries
from node.store.db import create_engine, create_sessions, transaction
from node.store.deliveries import DeliveryUpdate
from node.store.models import Delivery, DeliveryState, DomainHealth, OutgoingActivity
from node.store.schema import upgrade
from protocol.serialize import dumps

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from node.store.db import Sessions

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
LEASE = NOW + timedelta(seconds=60)


@pytest.fixture
async def sessions(tmp_path: Path, database_url: str) -> AsyncIterator[Sessions]:
    engine = create_engine(sender_settings(tmp_path, database_url))
    await upgrade(engine)
    yield create_sessions(engine)
    await engine.dispose()


async def count(sessions: Sessions, model: type[Delivery] | type[OutgoingActivity]) -> int:
    async with sessions() as session:
        return await session.scalar(select(func.count()).select_from(model)) or 0


async def all_rows(sessions: Sessions) -> list[Delivery]:
    async with sessions() as session:
        return list(await session.scalars(select(Delivery).order_by(Delivery.id)))


async def add_health(sessions: Sessions, **values: object) -> None:
    async with transaction(sessions) as session:
        session.add(DomainHealth(**values))


# -- enqueue -------------------------------------------------------------------------------


async def test_enqueue_writes_in_the_callers_transaction(sessions: Sessions) -> None:
    # Given a caller whose own change fails after enqueueing
    with pytest.raises(RuntimeError):
        async with transaction(sessions) as session:
            queued = await enqueue(session, activity(1), SENDER, ["https://a.example/inbox"])
            assert queued.activity_id is not None  # written (flushed) inside the transaction
            raise RuntimeError("the caller's change failed")

    # Then the rollback took the activity and its deliveries with it
    assert await count(sessions, OutgoingActivity) == 0
    assert await count(sessions, Delivery) == 0


async def test_enqueue_does_not_commit(sessions: Sessions) -> None:
    async with sessions() as session:
        await enqueue(session, activity(1), SENDER, ["https://a.example/inbox"], now=NOW)
        assert session.in_transaction()
        await session.rollback()
    assert await count(sessions, Delivery) == 0


async def test_one_row_per_distinct_inbox_with_its_domain(sessions: Sessions) -> None:
    inboxes = [
        "https://a.example/inbox",
        "https://A.example:443/users/x/inbox",
        " https://a.example/inbox ",  # the same shared inbox again
        "https://b.example:8443/inbox",
        "https://a.example/inbox",
    ]
    async with transaction(sessions) as session:
        queued = await enqueue(session, activity(1), SENDER, inboxes, now=NOW)

    assert queued.inboxes == (
        "https://a.example/inbox",
        "https://A.example:443/users/x/inbox",
        "https://b.example:8443/inbox",
    )
    assert queued.skipped == ()
    rows = await all_rows(sessions)
    assert [(row.inbox, row.domain) for row in rows] == [
        ("https://a.example/inbox", "a.example"),
        ("https://A.example:443/users/x/inbox", "a.example"),
        ("https://b.example:8443/inbox", "b.example:8443"),
    ]
    assert {(row.state, row.attempts, row.next_attempt_at, row.locked_until) for row in rows} == {
        (DeliveryState.PENDING, 0, NOW, None)
    }
    async with sessions() as session:
        stored = await session.get(OutgoingActivity, queued.activity_id)
    assert stored is not None
    assert (stored.iri, stored.actor_iri) == (activity(1)["id"], SENDER)
    assert stored.body == dumps(activity(1))  # the exact bytes every inbox receives


async def test_unavailable_domains_and_hostless_urls_are_skipped(sessions: Sessions) -> None:
    await add_health(sessions, domain="down.example", unavailable=True, failure_days=7)
    inboxes = [
        "https://down.example/inbox",
        "https://up.example/inbox",
        "not a url",
        "https://x:y/",
    ]
    async with transaction(sessions) as session:
        queued = await enqueue(session, activity(1), SENDER, inboxes, now=NOW)
    assert queued.inboxes == ("https://up.example/inbox",)
    assert set(queued.skipped) == {"https://down.example/inbox", "not a url", "https://x:y/"}


async def test_nothing_to_send_writes_nothing(sessions: Sessions) -> None:
    async with transaction(sessions) as session:
        queued = await enqueue(session, activity(1), SENDER, [], now=NOW)
    assert queued.activity_id is None
    assert await count(sessions, OutgoingActivity) == 0


async def test_an_activity_without_an_id_is_refused(sessions: Sessions) -> None:
    async with sessions() as session:
        with pytest.raises(InvalidInput, match="needs an id"):
            await enqueue(session, {"type": "Create"}, SENDER, ["https://a.example/inbox"])


def test_domain_of() -> None:
    assert domain_of("https://Mastodon.Social/inbox") == "mastodon.social"
    assert domain_of("http://127.0.0.1:8001/x") == "127.0.0.1:8001"
    assert domain_of("https://[::1]:8443/x") == "[::1]:8443"
    assert domain_of("https://h.example:notaport/") is None
    assert domain_of("/relative/inbox") is None


async def test_mark_domain_alive_forgets_failures(sessions: Sessions) -> None:
    await add_health(
        sessions,
        domain="back.example",
        consecutive_failures=12,
        circuit_open_until=NOW + timedelta(hours=6),
        failure_days=7,
        first_failure_day=date(2026, 2, 20),
        last_failure_day=date(2026, 3, 1),
        unavailable=True,
    )
    async with transaction(sessions) as session:
        assert await mark_domain_alive(session, "Back.Example")
        assert not await mark_domain_alive(session, "never-seen.example")
    async with sessions() as session:
        health = await session.get(DomainHealth, "back.example")
    assert health is not None
    assert (health.consecutive_failures, health.circuit_open_until, health.unavailable) == (
        0,
        None,
        False,
    )
    assert (health.failure_days, health.first_failure_day, health.last_failure_day) == (
        0,
        None,
        None,
    )
    async with transaction(sessions) as session:
        assert not await mark_domain_alive(session, "back.example")  # already healthy


# -- claiming and recording ------------------------------------------------------------------


async def queue_to(sessions: Sessions, *inboxes: str) -> None:
    async with transaction(sessions) as session:
        await enqueue(session, activity(1), SENDER, inboxes, now=NOW)


async def test_claim_skips_rows_not_yet_due(sessions: Sessions) -> None:
    await queue_to(sessions, "https://a.example/inbox")
    async with transaction(sessions) as session:
        assert await deliveries.claim_due(session, NOW - timedelta(seconds=1), LEASE, 10) == []
        [claimed] = await deliveries.claim_due(session, NOW, LEASE, 10)
    assert (claimed.inbox, claimed.domain, claimed.attempts) == (
        "https://a.example/inbox",
        "a.example",
        0,
    )
    [row] = await all_rows(sessions)
    assert row.locked_until == LEASE


async def test_claim_respects_the_limit_and_excluded_domains(sessions: Sessions) -> None:
    await queue_to(sessions, *(f"https://a.example/{n}" for n in range(5)), "https://b.example/i")
    async with transaction(sessions) as session:
        first = await deliveries.claim_due(session, NOW, LEASE, 3, exclude_domains={"b.example"})
        rest = await deliveries.claim_due(session, NOW, LEASE, 10, exclude_domains={"a.example"})
    assert len(first) == 3
    assert {row.domain for row in first} == {"a.example"}
    assert [row.inbox for row in rest] == ["https://b.example/i"]


async def test_claim_skips_domains_whose_circuit_is_open(sessions: Sessions) -> None:
    await queue_to(sessions, "https://a.example/inbox")
    await add_health(sessions, domain="a.example", circuit_open_until=NOW + timedelta(seconds=60))
    async with transaction(sessions) as session:
        assert await deliveries.claim_due(session, NOW, LEASE, 10) == []
    later = NOW + timedelta(seconds=60)
    async with transaction(sessions) as session:
        assert len(await deliveries.claim_due(session, later, later + timedelta(60), 10)) == 1


async def test_only_one_caller_takes_the_probe(sessions: Sessions) -> None:
    await add_health(sessions, domain="a.example", consecutive_failures=10, circuit_open_until=NOW)
    async with transaction(sessions) as session:
        assert await deliveries.take_probe(session, "a.example", NOW, LEASE)
        assert not await deliveries.take_probe(session, "a.example", NOW, LEASE)


async def test_release_makes_rows_claimable_at_once(sessions: Sessions) -> None:
    await queue_to(sessions, "https://a.example/inbox")
    async with transaction(sessions) as session:
        [claimed] = await deliveries.claim_due(session, NOW, LEASE, 10)
        await deliveries.release(session, [claimed.id])
        assert len(await deliveries.claim_due(session, NOW, LEASE, 10)) == 1


async def test_recording_leaves_rows_that_are_no_longer_pending(sessions: Sessions) -> None:
    # Given a row delivered by another worker after our lease ran out
    await queue_to(sessions, "https://a.example/inbox")
    [row] = await all_rows(sessions)
    delivered = DeliveryUpdate(row.id, DeliveryState.DELIVERED, 1, NOW, 202, None, NOW)
    async with transaction(sessions) as session:
        await deliveries.record_deliveries(session, [delivered])

    # When our late result (a retry) is recorded
    late = DeliveryUpdate(row.id, DeliveryState.PENDING, 1, LEASE, 500, "HTTP 500", None)
    async with transaction(sessions) as session:
        await deliveries.record_deliveries(session, [late])

    # Then the delivered row stays delivered
    [row] = await all_rows(sessions)
    assert (row.state, row.last_status, row.delivered_at) == (DeliveryState.DELIVERED, 202, NOW)


async def test_next_due_sees_future_rows_and_leases(sessions: Sessions) -> None:
    async with sessions() as session:
        assert await deliveries.next_due(session, NOW) is None
    await queue_to(sessions, "https://a.example/inbox", "https://b.example/inbox")
    async with transaction(sessions) as session:
        await deliveries.claim_due(session, NOW, LEASE, 1)
    async with sessions() as session:
        assert await deliveries.next_due(session, NOW) == LEASE
        assert await deliveries.next_due(session, NOW - timedelta(seconds=5)) == NOW


async def test_prune_deletes_old_finished_rows_and_their_activities(sessions: Sessions) -> None:
    await queue_to(sessions, "https://a.example/inbox", "https://b.example/inbox")
    [first, second] = await all_rows(sessions)
    done = DeliveryUpdate(first.id, DeliveryState.DELIVERED, 1, NOW, 202, None, NOW)
    async with transaction(sessions) as session:
        await deliveries.record_deliveries(session, [done])
    later = NOW + timedelta(days=8)
    async with transaction(sessions) as session:
        assert await deliveries.prune_finished(session, later) == 1
    # The pending row keeps its activity
    assert [row.id for row in await all_rows(sessions)] == [second.id]
    assert await count(sessions, OutgoingActivity) == 1
    failed = DeliveryUpdate(second.id, DeliveryState.FAILED, 1, NOW, 410, "gone", None)
    async with transaction(sessions) as session:
        await deliveries.record_deliveries(session, [failed])
        await deliveries.prune_finished(session, later)
    assert await count(sessions, OutgoingActivity) == 0
