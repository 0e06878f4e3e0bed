"""The delivery worker against real loopback inboxes that verify our signatures.

Every receiver here is an aiohttp server on a free port that checks each
request's HTTP signature with protocol.httpsig and records what it accepted;
the worker runs on SQLite and (when configured) PostgreSQL.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import pytest
from deliverykit import FAST, SENDER, Inboxes, activity, open_sender
from sqlalchemy import select

from node.outbound.client import create_client
from node.outbound.queue import enqueue
from node.outbound.worker import WorkerStats, run_worker
from node.store import deliveries
from node.store.db import transaction
from node.store.models import Delivery, DeliveryState, DomainHealth
from protocol.httpsig import Scheme

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterable
    from pathlib import Path

    import aiohttp
    from deliverykit import Sender

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


async def queue(sender: Sender, number: int, urls: Iterable[str]) -> int:
    async with transaction(sender.sessions) as session:
        queued = await enqueue(session, activity(number), SENDER, urls)
    assert queued.activity_id is not None
    return queued.activity_id


async def states(sender: Sender) -> dict[DeliveryState, int]:
    async with sender.sessions() as session:
        return await deliveries.count_by_state(session)


async def rows(sender: Sender) -> list[Delivery]:
    async with sender.sessions() as session:
        return list(await session.scalars(select(Delivery).order_by(Delivery.id)))


async def run_until_settled(
    sender: Sender, http: aiohttp.ClientSession, **kwargs: Any
) -> WorkerStats:
    """Run a worker until no row is pending, then stop it and return its stats."""
    stop = asyncio.Event()
    options = kwargs.pop("options", FAST)
    task = asyncio.create_task(
        run_worker(
            sender.settings, sender.sessions, sender.keyring, http, stop, options=options, **kwargs
        )
    )
    deadline = asyncio.get_running_loop().time() + DEADLINE
    while DeliveryState.PENDING in await states(sender):
        assert asyncio.get_running_loop().time() < deadline, await states(sender)
        assert not task.done(), task
        await asyncio.sleep(0.02)
    stop.set()
    return await asyncio.wait_for(task, DEADLINE)


# -- the happy path ------------------------------------------------------------------------


async def test_every_inbox_gets_every_activity_exactly_once(
    sender: Sender, http: aiohttp.ClientSession
) -> None:
    # Given three servers with 20 inboxes each, and two activities queued to all of them
    servers = [await Inboxes({sender.public_key.id: sender.public_key}).start() for _ in range(3)]
    try:
        urls = [url for server in servers for url in server.urls(20)]
        await queue(sender, 1, urls)
        await queue(sender, 2, [*urls, *urls[:5]])  # duplicates collapse to one row

        # When the worker runs until nothing is pending
        stats = await run_until_settled(sender, http, concurrency=16, per_domain=4, batch=10)
    finally:
        for server in servers:
            await server.stop()

    # Then each (inbox, activity) was accepted exactly once, with a valid signature
    for server in servers:
        assert server.refused == []
        assert set(server.accepted().values()) == {1}
        assert len(server.accepted()) == 40
    assert stats.delivered == 120
    assert stats.requests == 120
    assert await states(sender) == {DeliveryState.DELIVERED: 120}
    stored = await rows(sender)
    assert {row.attempts for row in stored} == {1}
    assert {row.locked_until for row in stored} == {None}
    # And RFC 9421 was used and remembered for each domain
    assert {item.scheme for server in servers for item in server.received} == {Scheme.RFC9421}
    async with sender.sessions() as session:
        schemes = set(await session.scalars(select(DomainHealth.signature_scheme)))
    assert schemes == {Scheme.RFC9421}


# -- answers that are not a plain 2xx -------------------------------------------------------


async def test_a_500_is_retried_and_the_retry_delivers(
    sender: Sender, http: aiohttp.ClientSession, inboxes: Inboxes
) -> None:
    # Given an inbox that fails once with 500, then accepts
    inboxes.answer("/inbox/0", (500, {}))
    await queue(sender, 1, inboxes.urls(1))

    stats = await run_until_settled(sender, http)

    # Then the second attempt delivered it, once
    assert inboxes.accepted() == {("/inbox/0", f"{SENDER}/notes/1/activity"): 1}
    assert inboxes.requests == 2
    assert (stats.retried, stats.delivered) == (1, 1)
    [row] = await rows(sender)
    assert (row.state, row.attempts, row.last_status, row.last_error) == (
        DeliveryState.DELIVERED,
        2,
        202,
        None,
    )


async def test_retry_after_is_honoured(
    sender: Sender, http: aiohttp.ClientSession, inboxes: Inboxes
) -> None:
    # Given an inbox that answers 429 with Retry-After: 1 (the backoff alone would be 50 ms)
    inboxes.answer("/inbox/0", (429, {"Retry-After": "1"}))
    await queue(sender, 1, inboxes.urls(1))
    loop = asyncio.get_running_loop()
    started = loop.time()

    await run_until_settled(sender, http)

    # Then the retry came no sooner than a second later
    [received] = inboxes.received
    assert received.at - started >= 1.0
    assert inboxes.requests == 2


async def test_410_gives_up_at_once(
    sender: Sender, http: aiohttp.ClientSession, inboxes: Inboxes
) -> None:
    inboxes.answer("/inbox/0", (410, {}))
    await queue(sender, 1, inboxes.urls(1))

    stats = await run_until_settled(sender, http)

    assert inboxes.requests == 1
    assert stats.failed == 1
    [row] = await rows(sender)
    assert (row.state, row.attempts, row.last_status) == (DeliveryState.FAILED, 1, 410)
    assert row.last_error is not None
    assert "gone" in row.last_error


async def test_retries_run_out_and_the_row_fails_for_good(
    sender: Sender, http: aiohttp.ClientSession, inboxes: Inboxes
) -> None:
    # Given an inbox that always answers 503 and a policy of 3 retries
    inboxes.status = 503
    await queue(sender, 1, inboxes.urls(1))

    await run_until_settled(sender, http)

    # Then it was tried 1 + 3 times, and the reason is kept
    assert inboxes.requests == 4
    [row] = await rows(sender)
    assert (row.state, row.attempts, row.last_status) == (DeliveryState.FAILED, 4, 503)
    assert row.last_error == "gave up after 4 attempts: HTTP 503"


async def test_a_cavage_only_inbox_gets_the_other_scheme_and_it_is_remembered(
    sender: Sender, http: aiohttp.ClientSession, inboxes: Inboxes
) -> None:
    # Given a server that refuses RFC 9421 signatures (like Mastodon before 4.5)
    inboxes.accepts = frozenset({Scheme.CAVAGE})
    await queue(sender, 1, inboxes.urls(1))

    # When the first activity goes out, RFC 9421 is refused and cavage knocks next
    stats = await run_until_settled(sender, http)
    assert stats.requests == 2
    assert [item.scheme for item in inboxes.received] == [Scheme.CAVAGE]
    assert len(inboxes.refused) == 1

    # Then the domain's scheme is remembered, and the next activity needs one request
    async with sender.sessions() as session:
        health = await session.get(DomainHealth, f"127.0.0.1:{inboxes.port}")
    assert health is not None
    assert health.signature_scheme is Scheme.CAVAGE
    await queue(sender, 2, inboxes.urls(1))
    stats = await run_until_settled(sender, http)
    assert stats.requests == 1
    assert len(inboxes.received) == 2
    assert len(inboxes.refused) == 1


async def test_an_inbox_that_refuses_both_schemes_is_retried_later(
    sender: Sender, http: aiohttp.ClientSession, inboxes: Inboxes
) -> None:
    inboxes.accepts = frozenset()
    await queue(sender, 1, inboxes.urls(1))

    await run_until_settled(sender, http)

    # Each of the 4 attempts knocked twice; nothing is remembered as accepted
    assert inboxes.requests == 8
    [row] = await rows(sender)
    assert (row.state, row.last_status) == (DeliveryState.FAILED, 401)
    async with sender.sessions() as session:
        health = await session.get(DomainHealth, f"127.0.0.1:{inboxes.port}")
    assert health is not None
    assert health.signature_scheme is None


async def test_an_unsafe_inbox_url_is_refused_without_a_request(
    sender: Sender, http: aiohttp.ClientSession
) -> None:
    # Given production settings (no local development), a loopback inbox is refused
    production = replace(sender.settings, local_dev=False)
    async with transaction(sender.sessions) as session:
        await enqueue(session, activity(1), SENDER, ["http://127.0.0.1:9/inbox"])
    stop = asyncio.Event()
    task = asyncio.create_task(
        run_worker(production, sender.sessions, sender.keyring, http, stop, options=FAST)
    )
    while DeliveryState.PENDING in await states(sender):
        await asyncio.sleep(0.02)
    stop.set()
    await task
    [row] = await rows(sender)
    assert row.state is DeliveryState.FAILED
    assert row.last_error is not None
    assert row.last_error.startswith("refused: ")
