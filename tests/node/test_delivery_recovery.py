"""The delivery worker when things go wrong: dead domains, stops, kills, several workers.

Takahē's promise, tested: a worker can be stopped or killed at any moment
and nothing is lost; on PostgreSQL several workers never send the same row.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
from deliverykit import FAST, SENDER, Inboxes, activity, open_sender
from sqlalchemy import select, update

from node.outbound.client import create_client
from node.outbound.health import HealthPolicy
from node.outbound.queue import bind_wakeup, enqueue, mark_domain_alive
from node.outbound.worker import WorkerStats, run_worker
from node.store import deliveries
from node.store.db import create_engine, create_sessions, transaction
from node.store.models import Delivery, DeliveryState, DomainHealth

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterable
    from pathlib import Path

    import aiohttp
    from deliverykit import Sender

    from node.store.db import Sessions

DEADLINE = 20.0


@pytest.fixture
async def sender(tmp_path: Path, database_url: str) -> AsyncIterator[Sender]:
    opened = await open_sender(tmp_path, database_url)
    yield opened
    await opened.engine.dispose()


@pytest.fixture
async def http(sender: Sender) -> AsyncIterator[aiohttp.ClientSession]:
    client = create_client(sender.settings)
    yield client
    await client.close()


@pytest.fixture
async def inboxes(sender: Sender) -> AsyncIterator[Inboxes]:
    server = await Inboxes({sender.public_key.id: sender.public_key}).start()
    yield server
    await server.stop()


async def queue(sessions: Sessions, number: int, urls: Iterable[str]) -> None:
    async with transaction(sessions) as session:
        await enqueue(session, activity(number), SENDER, urls)


async def states(sessions: Sessions) -> dict[DeliveryState, int]:
    async with sessions() as session:
        return await deliveries.count_by_state(session)


async def until(condition: Any, message: str = "") -> None:
    """Poll ``condition`` (an async callable) until it is true, or fail after the deadline."""
    deadline = asyncio.get_running_loop().time() + DEADLINE
    while not await condition():
        assert asyncio.get_running_loop().time() < deadline, message
        await asyncio.sleep(0.02)


def start(sender: Sender, http: aiohttp.ClientSession, stop: asyncio.Event, **kwargs: Any) -> Any:
    kwargs.setdefault("options", FAST)
    return asyncio.create_task(
        run_worker(sender.settings, sender.sessions, sender.keyring, http, stop, **kwargs)
    )


async def settled(sessions: Sessions) -> bool:
    return DeliveryState.PENDING not in await states(sessions)


# -- a dead domain ---------------------------------------------------------------------------


async def test_the_circuit_opens_after_ten_failures_and_one_probe_closes_it(
    sender: Sender, http: aiohttp.ClientSession, inboxes: Inboxes
) -> None:
    # Given a server that answers 500 to everything, and 30 rows for it
    inboxes.status = 500
    await queue(sender.sessions, 1, inboxes.urls(30))
    policy = HealthPolicy(cool_off=timedelta(seconds=0.5))
    options = replace(FAST, retry=replace(FAST.retry, max_retries=100), health=policy)
    stop = asyncio.Event()
    task = start(sender, http, stop, options=options, per_domain=4, concurrency=8)

    # When ten requests have failed, the circuit opens: at most the ones in flight follow
    await until(lambda: _true(inboxes.requests >= 10))
    await asyncio.sleep(0.3)
    tripped_at = inboxes.requests
    assert tripped_at <= 10 + 4
    async with sender.sessions() as session:
        health = await session.get(DomainHealth, f"127.0.0.1:{inboxes.port}")
    assert health is not None
    assert health.consecutive_failures >= 10
    assert health.circuit_open_until is not None

    # And while it stays down, only one probe goes out per cool-off (0.5 s)
    await asyncio.sleep(1.2)
    assert tripped_at < inboxes.requests <= tripped_at + 3

    # When the server recovers, the next probe closes the circuit and everything is delivered
    inboxes.status = 202
    await until(lambda: settled(sender.sessions), "not delivered after recovery")
    stop.set()
    await task
    assert len(inboxes.accepted()) == 30
    assert set(inboxes.accepted().values()) == {1}
    async with sender.sessions() as session:
        health = await session.get(DomainHealth, f"127.0.0.1:{inboxes.port}")
    assert health is not None
    assert (health.consecutive_failures, health.circuit_open_until) == (0, None)


async def _true(value: bool) -> bool:
    return value


async def test_an_unavailable_domain_is_paused_and_resumes_when_it_talks_to_us(
    sender: Sender, http: aiohttp.ClientSession, inboxes: Inboxes
) -> None:
    # Given pending rows for a domain that then became unavailable (7 failure days)
    await queue(sender.sessions, 1, inboxes.urls(3))
    domain = f"127.0.0.1:{inboxes.port}"
    far = datetime.now(UTC) + timedelta(hours=6)
    async with transaction(sender.sessions) as session:
        session.add(
            DomainHealth(domain=domain, unavailable=True, failure_days=7, circuit_open_until=far)
        )
    wakeup = asyncio.Event()
    bind_wakeup(sender.sessions, wakeup)
    stop = asyncio.Event()
    options = replace(FAST, idle_poll=30.0)  # only the wake-up can make it look again soon
    task = start(sender, http, stop, options=options, wakeup=wakeup)

    # Then nothing is sent to it, and new activities for it are not even queued
    await asyncio.sleep(0.3)
    assert inboxes.requests == 0
    async with transaction(sender.sessions) as session:
        queued = await enqueue(session, activity(2), SENDER, inboxes.urls(3))
    assert (queued.activity_id, queued.skipped) == (None, tuple(inboxes.urls(3)))

    # When the domain sends us a request (the inbox calls mark_domain_alive), it resumes at once
    async with transaction(sender.sessions) as session:
        assert await mark_domain_alive(session, domain)
    await until(lambda: settled(sender.sessions), "paused rows did not resume")
    stop.set()
    await task
    assert len(inboxes.accepted()) == 3
    async with transaction(sender.sessions) as session:
        assert not await mark_domain_alive(session, domain)  # nothing left to forget


async def test_enqueue_wakes_an_idle_worker_after_commit(
    sender: Sender, http: aiohttp.ClientSession, inboxes: Inboxes
) -> None:
    # Given an idle worker that would otherwise look again only after 30 s
    wakeup = asyncio.Event()
    bind_wakeup(sender.sessions, wakeup)
    stop = asyncio.Event()
    task = start(sender, http, stop, options=replace(FAST, idle_poll=30.0), wakeup=wakeup)
    await asyncio.sleep(0.2)

    # When an activity is queued and committed, it is delivered within a second
    began = asyncio.get_running_loop().time()
    await queue(sender.sessions, 1, inboxes.urls(2))
    await until(lambda: _true(len(inboxes.received) == 2))
    assert asyncio.get_running_loop().time() - began < 1.0
    stop.set()
    await task


async def test_a_rolled_back_enqueue_does_not_wake_the_worker(sender: Sender) -> None:
    wakeup = asyncio.Event()
    bind_wakeup(sender.sessions, wakeup)
    with pytest.raises(RuntimeError):
        async with transaction(sender.sessions) as session:
            await enqueue(session, activity(1), SENDER, ["http://127.0.0.1:9/inbox"])
            raise RuntimeError("the caller's change failed")
    assert not wakeup.is_set()
    assert await states(sender.sessions) == {}


# -- stopping and killing --------------------------------------------------------------------


async def test_stop_lets_the_rows_in_flight_finish_and_records_them(
    sender: Sender, http: aiohttp.ClientSession, inboxes: Inboxes
) -> None:
    # Given a slow inbox and eight rows all in flight
    inboxes.delay = 0.4
    await queue(sender.sessions, 1, inboxes.urls(8))
    stop = asyncio.Event()
    task = start(sender, http, stop, concurrency=8)
    await until(lambda: _true(inboxes.requests == 8))

    # When the worker is asked to stop (SIGTERM in the CLI)
    stop.set()
    stats: WorkerStats = await asyncio.wait_for(task, DEADLINE)

    # Then what was in flight was delivered and recorded, and no lease is left behind
    assert stats.delivered == 8
    assert await states(sender.sessions) == {DeliveryState.DELIVERED: 8}
    async with sender.sessions() as session:
        leases = set(await session.scalars(select(Delivery.locked_until)))
    assert leases == {None}


async def test_a_worker_killed_mid_batch_loses_nothing(
    sender: Sender, http: aiohttp.ClientSession, inboxes: Inboxes
) -> None:
    # Given 40 rows, a slow inbox, and a worker with a one-second lease
    inboxes.delay = 0.2
    urls = inboxes.urls(40)
    await queue(sender.sessions, 1, urls)
    options = replace(FAST, lease=timedelta(seconds=1))
    first = start(sender, http, asyncio.Event(), options=options, concurrency=10, per_domain=10)

    # When it is killed (cancelled) while requests are in flight
    await until(lambda: _true(len(inboxes.received) >= 5))
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    assert DeliveryState.PENDING in await states(sender.sessions)

    # Then a new worker, once the lease has run out, delivers everything that was left
    stop = asyncio.Event()
    second = start(sender, http, stop, options=options, concurrency=10, per_domain=10)
    await until(lambda: settled(sender.sessions), "rows were lost")
    stop.set()
    await second
    accepted = inboxes.accepted()
    assert {path for path, _ in accepted} == {url.removeprefix(inboxes.base) for url in urls}
    # A row in flight at the kill may arrive twice (receivers dedupe by id), no more
    assert sum(accepted.values()) <= 40 + 10
    assert await states(sender.sessions) == {DeliveryState.DELIVERED: 40}


@pytest.mark.postgresql
async def test_two_workers_on_postgresql_never_send_the_same_row(
    tmp_path: Path, postgres_url: str
) -> None:
    # Given 300 rows on three servers, and two workers with their own engines and clients
    sender = await open_sender(tmp_path, postgres_url)
    key = {sender.public_key.id: sender.public_key}
    servers = [await Inboxes(key, delay=0.005).start() for _ in range(3)]
    second_engine = create_engine(sender.settings)
    clients = [create_client(sender.settings), create_client(sender.settings)]
    try:
        await queue(sender.sessions, 1, [url for s in servers for url in s.urls(100)])
        stop = asyncio.Event()
        sessions = [sender.sessions, create_sessions(second_engine)]
        tasks = [
            asyncio.create_task(
                run_worker(
                    sender.settings,
                    worker_sessions,
                    sender.keyring,
                    client,
                    stop,
                    options=FAST,
                    batch=5,
                    concurrency=6,
                    per_domain=2,
                )
            )
            for worker_sessions, client in zip(sessions, clients, strict=True)
        ]

        # When both run until nothing is pending
        await until(lambda: settled(sender.sessions), "not all delivered")
        stop.set()
        stats = await asyncio.gather(*tasks)
    finally:
        for server in servers:
            await server.stop()
        for client in clients:
            await client.close()
        await second_engine.dispose()
        await sender.engine.dispose()

    # Then every row was sent exactly once, and both workers did part of the work
    for server in servers:
        assert len(server.accepted()) == 100
        assert set(server.accepted().values()) == {1}
    assert sum(s.requests for s in stats) == 300
    assert all(s.delivered > 0 for s in stats), stats


async def test_a_row_whose_lease_expired_is_claimed_again(sender: Sender) -> None:
    # Given a row claimed by a worker that then vanished
    await queue(sender.sessions, 1, ["http://127.0.0.1:9/inbox"])
    now = datetime.now(UTC)
    async with transaction(sender.sessions) as session:
        [claimed] = await deliveries.claim_due(session, now, now + timedelta(seconds=60), 10)
    # Then nobody can claim it while the lease runs
    async with transaction(sender.sessions) as session:
        assert await deliveries.claim_due(session, now, now + timedelta(seconds=60), 10) == []
    # And once the lease has passed, it is claimable again
    later = now + timedelta(seconds=61)
    async with transaction(sender.sessions) as session:
        [again] = await deliveries.claim_due(session, later, later + timedelta(seconds=60), 10)
    assert again.id == claimed.id
    async with transaction(sender.sessions) as session:
        await session.execute(update(Delivery).values(locked_until=None))
