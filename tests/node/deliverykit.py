"""Helpers for delivery tests: a sender node in a database, and real loopback inboxes.

:class:`Inboxes` is an aiohttp server on a free loopback port that verifies
every request's HTTP signature with ``protocol.httpsig`` (as a real peer
would) and records what it accepted. Each path can be scripted to answer a
sequence of statuses, and a server can be told to accept only one scheme.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from aiohttp import web

from node.actions.local_actors import build_local_actor
from node.config import Settings
from node.iris import coop_iris
from node.keyring import load_keyring
from node.outbound.deliver import RetryPolicy
from node.outbound.health import HealthPolicy
from node.outbound.worker import WorkerOptions
from node.store import actors
from node.store.db import create_engine, create_sessions, transaction
from node.store.models import ActorKind
from node.store.schema import upgrade
from protocol.errors import SignatureError
from protocol.http import HttpRequest
from protocol.httpsig import Scheme, parse_signature, verify

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Sequence
    from pathlib import Path

    from sqlalchemy.ext.asyncio import AsyncEngine

    from node.keyring import Keyring
    from node.store.db import Sessions
    from protocol.keys import PublicKey

BASE = "http://127.0.0.1:8000"
SENDER = coop_iris(BASE).id
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

# Retries within a fraction of a second, so tests see several attempts quickly.
FAST = WorkerOptions(
    lease=timedelta(seconds=5),
    idle_poll=0.05,
    flush_interval=0.01,
    retry=RetryPolicy(max_retries=3, base=timedelta(milliseconds=50), scale=timedelta(0)),
    health=HealthPolicy(cool_off=timedelta(seconds=30)),
)


@dataclass(frozen=True, slots=True)
class Sender:
    """A migrated database holding the co-op actor (with keys), and its loaded keyring."""

    settings: Settings
    engine: AsyncEngine
    sessions: Sessions
    keyring: Keyring
    public_key: PublicKey


def sender_settings(data_dir: Path, database_url: str) -> Settings:
    """Local development settings, so loopback inboxes are allowed."""
    return Settings(
        data_dir=data_dir,
        base_url=BASE,
        coop_handle="river",
        coop_name="River Care",
        database_url=database_url,
        local_dev=True,
    )


async def open_sender(data_dir: Path, database_url: str) -> Sender:
    """Migrate the database and add the co-op actor; the caller disposes of the engine."""
    settings = sender_settings(data_dir, database_url)
    engine = create_engine(settings)
    await upgrade(engine)
    sessions = create_sessions(engine)
    actor = await asyncio.to_thread(
        build_local_actor,
        iris=coop_iris(BASE),
        kind=ActorKind.COOP,
        handle="river",
        domain="127.0.0.1:8000",
        name="River Care",
        now=NOW,
    )
    async with transaction(sessions) as session:
        await actors.add_actor(session, actor)
    keyring = await load_keyring(sessions)
    key = keyring.signing_key(SENDER)
    assert key is not None
    return Sender(settings, engine, sessions, keyring, key.public(SENDER))


def activity(number: int) -> dict[str, object]:
    """A small Create(Note) from the co-op."""
    note = f"{SENDER}/notes/{number}"
    return {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{note}/activity",
        "type": "Create",
        "actor": SENDER,
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
        "object": {"id": note, "type": "Note", "attributedTo": SENDER, "content": "hello"},
    }


@dataclass(frozen=True, slots=True)
class Received:
    """One request an inbox accepted as validly signed."""

    path: str
    activity: str
    scheme: Scheme
    at: float


@dataclass
class Inboxes:
    """A loopback server: any path is an inbox; signatures are checked with ``keys``."""

    keys: dict[str, PublicKey]
    accepts: frozenset[Scheme] = frozenset(Scheme)
    delay: float = 0.0
    status: int = 202  # the answer when no script is left for the path
    requests: int = 0  # every POST seen, signed or not, answered or not
    script: dict[str, list[tuple[int, dict[str, str]]]] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    port: int = 0
    _runner: web.AppRunner | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def urls(self, count: int, prefix: str = "inbox") -> list[str]:
        return [f"{self.base}/{prefix}/{index}" for index in range(count)]

    def answer(self, path: str, *responses: tuple[int, dict[str, str]]) -> None:
        """Script ``path`` to answer these (status, headers) in turn, then 202."""
        self.script[path] = list(responses)

    def accepted(self) -> Counter[tuple[str, str]]:
        """How often each (path, activity id) was accepted with a 2xx."""
        return Counter((item.path, item.activity) for item in self.received)

    async def start(self) -> Inboxes:
        app = web.Application()
        app.router.add_post("/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        await site.start()
        if self.port == 0:  # the OS chose a free port: read it back
            self.port = int(self._runner.addresses[0][1])
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.Response:
        self.requests += 1
        body = await request.read()
        signed = HttpRequest.build("POST", str(request.url), request.headers.items(), body)
        try:
            params = parse_signature(signed)
            if params.scheme not in self.accepts:
                self.refused.append(f"{request.path}: {params.scheme} not accepted")
                return web.Response(status=401)
            verify(signed, params, self.keys[params.key_id], now=datetime.now(UTC))
        except (SignatureError, KeyError) as exc:
            self.refused.append(f"{request.path}: {exc!r}")
            return web.Response(status=401)
        if request.headers.get("content-type") != "application/activity+json":
            self.refused.append(f"{request.path}: content-type {request.content_type}")
            return web.Response(status=415)
        if self.delay:
            await asyncio.sleep(self.delay)
        pending = self.script.get(request.path)
        status, headers = pending.pop(0) if pending else (self.status, {})
        if 200 <= status < 300:
            activity_id = json.loads(body)["id"]
            self.received.append(
                Received(
                    request.path, activity_id, params.scheme, asyncio.get_running_loop().time()
                )
            )
        return web.Response(status=status, headers=headers)


async def started(inboxes: Sequence[Inboxes]) -> AsyncIterator[None]:
    """Start every server, yield, stop them all."""
    for server in inboxes:
        await server.start()
    try:
        yield
    finally:
        for server in inboxes:
            await server.stop()
