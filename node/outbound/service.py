"""Where the worker runs: inside ``serve`` (the default) or as a ``sharing-care worker`` process.

Inside ``serve`` the app's lifespan opens :func:`delivering`: one worker per
server process, woken in-process by every commit that queued work. Separate
worker processes (``run_worker_in_serve = false``) poll instead, and scale out
on PostgreSQL. Either way SIGTERM drains: rows in flight finish and are
recorded; anything cut short keeps its lease and is retried after it.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from contextlib import asynccontextmanager, nullcontext
from typing import TYPE_CHECKING, Any, Final

import uvloop

from node.keyring import load_keyring
from node.outbound.client import create_client
from node.outbound.queue import bind_wakeup
from node.outbound.worker import WorkerOptions, WorkerStats, run_worker
from node.store.db import create_engine, create_sessions
from node.store.schema import ensure_at_head

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from contextlib import AbstractAsyncContextManager

    from node.config import Settings
    from node.keyring import Keyring
    from node.store.db import Sessions

__all__ = ["DRAIN_SECONDS", "delivering", "in_serve", "run_process"]

log = logging.getLogger("node.outbound")

# Long enough for a double-knocked attempt (2 x 10 s) and the final write.
DRAIN_SECONDS: Final = 25.0


def in_serve(
    settings: Settings, sessions: Sessions, keyring: Keyring
) -> AbstractAsyncContextManager[object]:
    """The lifespan's delivery: a worker unless ``run_worker_in_serve`` is off."""
    if not settings.run_worker_in_serve:
        return nullcontext()
    return delivering(settings, sessions, keyring)


@asynccontextmanager
async def delivering(
    settings: Settings, sessions: Sessions, keyring: Keyring, **worker: Any
) -> AsyncIterator[asyncio.Event]:
    """Run a worker while the block lasts; yield its wake-up event; drain it on the way out."""
    wakeup = asyncio.Event()
    bind_wakeup(sessions, wakeup)
    stop = asyncio.Event()
    client = create_client(settings)
    task = asyncio.create_task(
        run_worker(settings, sessions, keyring, client, stop, wakeup=wakeup, **worker),
        name="delivery-worker",
    )
    task.add_done_callback(_report_crash)
    try:
        yield wakeup
    finally:
        stop.set()
        await asyncio.wait({task}, timeout=DRAIN_SECONDS)
        if not task.done():  # leases cover what is cut short
            task.cancel()
            await asyncio.wait({task})
        await client.close()


def run_process(settings: Settings, *, concurrency: int, options: WorkerOptions) -> WorkerStats:
    """``sharing-care worker``: deliver until SIGTERM or SIGINT, then drain and return."""
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(_process(settings, concurrency, options))


async def _process(settings: Settings, concurrency: int, options: WorkerOptions) -> WorkerStats:
    engine = create_engine(settings)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        await ensure_at_head(engine)
        sessions = create_sessions(engine)
        keyring = await load_keyring(sessions)
        client = create_client(settings)
        try:
            return await run_worker(
                settings, sessions, keyring, client, stop, concurrency=concurrency, options=options
            )
        finally:
            await client.close()
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)
        await engine.dispose()


def _report_crash(task: asyncio.Task[WorkerStats]) -> None:
    if task.cancelled():
        return
    error = task.exception()
    if error is not None:
        log.error("the delivery worker stopped: %r", error, exc_info=error)
