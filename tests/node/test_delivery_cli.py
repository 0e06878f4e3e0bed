"""Where the worker runs: `sharing-care worker` processes (SIGTERM, kill -9) and inside serve."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from deliverykit import Inboxes, activity
from nodekit import TEMPLATE_BASE_URL, serving

from node.app import create_app
from node.cli import main
from node.iris import coop_iris
from node.keyring import load_keyring
from node.outbound.queue import enqueue
from node.store import deliveries
from node.store.db import create_engine, create_sessions, transaction
from node.store.models import DeliveryState

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from node.config import Settings
    from node.store.db import Sessions

SHARING_CARE = Path(sys.executable).with_name("sharing-care")
COOP = coop_iris(TEMPLATE_BASE_URL).id
DEADLINE = 30.0


class Node:
    """The template node's database, seen from the test."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.engine = create_engine(settings)
        self.sessions: Sessions = create_sessions(self.engine)

    async def inboxes(self) -> Inboxes:
        keyring = await load_keyring(self.sessions)
        key = keyring.signing_key(COOP)
        assert key is not None
        return await Inboxes({key.id: key.public(COOP)}).start()

    async def queue(self, number: int, urls: Sequence[str]) -> None:
        async with transaction(self.sessions) as session:
            await enqueue(session, activity(number) | {"actor": COOP}, COOP, urls)

    async def states(self) -> dict[DeliveryState, int]:
        async with self.sessions() as session:
            return await deliveries.count_by_state(session)

    async def settled(self) -> None:
        deadline = asyncio.get_running_loop().time() + DEADLINE
        while DeliveryState.PENDING in await self.states():
            assert asyncio.get_running_loop().time() < deadline, await self.states()
            await asyncio.sleep(0.05)


async def worker_process(data_dir: Path, *extra: str) -> asyncio.subprocess.Process:
    assert SHARING_CARE.exists(), f"console script missing: {SHARING_CARE}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHARING_CARE_")}
    return await asyncio.create_subprocess_exec(
        str(SHARING_CARE),
        "worker",
        "--data-dir",
        str(data_dir),
        *extra,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = asyncio.get_running_loop().time() + DEADLINE
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, what
        await asyncio.sleep(0.02)


async def test_worker_process_delivers_and_drains_on_sigterm(
    node_dir: Path, settings: Settings
) -> None:
    node = Node(settings)
    inboxes = await node.inboxes()
    try:
        await node.queue(1, inboxes.urls(20))
        process = await worker_process(node_dir)
        await node.settled()
        process.send_signal(signal.SIGTERM)
        out, err = await asyncio.wait_for(process.communicate(), DEADLINE)
    finally:
        await inboxes.stop()
        await node.engine.dispose()

    assert process.returncode == 0, err.decode()
    assert b"worker stopped: 20 delivered" in out
    assert len(inboxes.accepted()) == 20
    assert set(inboxes.accepted().values()) == {1}


async def test_kill_9_mid_batch_loses_nothing(node_dir: Path, settings: Settings) -> None:
    # Given 300 rows for a slow inbox, and a worker process with a one-second lease
    node = Node(settings)
    inboxes = await node.inboxes()
    inboxes.delay = 0.05
    try:
        await node.queue(1, inboxes.urls(300))
        first = await worker_process(node_dir, "--lease", "1", "--concurrency", "32")

        # When it is killed with SIGKILL in the middle of the work
        await wait_for(lambda: len(inboxes.received) >= 40, "the first worker never delivered")
        first.kill()
        await first.wait()
        assert DeliveryState.PENDING in await node.states()

        # Then a new worker delivers everything left, once the leases have run out
        second = await worker_process(node_dir, "--lease", "1", "--concurrency", "32")
        await node.settled()
        second.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(second.communicate(), DEADLINE)
        assert await node.states() == {DeliveryState.DELIVERED: 300}
    finally:
        await inboxes.stop()
        await node.engine.dispose()

    assert second.returncode == 0, err.decode()
    accepted = inboxes.accepted()
    assert len(accepted) == 300
    # Only requests in flight at the kill (at most the concurrency) may arrive twice
    assert sum(accepted.values()) <= 300 + 32


async def test_serve_runs_a_worker_by_default(settings: Settings) -> None:
    node = Node(settings)
    inboxes = await node.inboxes()
    try:
        async with serving(create_app(settings), settings.base_url):
            await node.queue(1, inboxes.urls(3))  # another process: found by polling
            await node.settled()
    finally:
        await inboxes.stop()
        await node.engine.dispose()
    assert len(inboxes.accepted()) == 3


async def test_serve_without_the_worker_leaves_rows_to_worker_processes(
    settings: Settings,
) -> None:
    node = Node(settings)
    inboxes = await node.inboxes()
    quiet = replace(settings, run_worker_in_serve=False)
    try:
        async with serving(create_app(quiet), settings.base_url):
            await node.queue(1, inboxes.urls(3))
            await asyncio.sleep(1.5)
            assert await node.states() == {DeliveryState.PENDING: 3}
    finally:
        await inboxes.stop()
        await node.engine.dispose()
    assert inboxes.requests == 0


def test_worker_refuses_a_zero_concurrency(node_dir: Path) -> None:
    assert main(["worker", "--data-dir", str(node_dir), "--concurrency", "0"], environ={}) == 2
