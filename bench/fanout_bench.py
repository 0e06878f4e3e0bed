"""Fan-out: one activity to 1,000 distinct inboxes, against the same run's bare RSA signing rate.

Every delivery needs one RSA-2048 PKCS#1 v1.5 signature (the signature
covers the inbox's host and path), so a single event loop can never deliver
faster than it can sign. The goal (issue 3, bench) is at least 0.5x that
ceiling: queue, claim, sign, POST, read the answer and record it, all
included.

Method: the receivers run in their own process (aiohttp on loopback, 1,000
paths spread over several ports, i.e. several "domains"), answering 202 and
counting; they verify the first signature on each port with protocol.httpsig
so a broken signer cannot pass. The sender is the real worker
(``node.outbound.worker.run_worker``) on a fresh database. Each round queues
one new activity to all 1,000 inboxes and times the worker from start until
every row is recorded delivered; the bare signing rate is measured in the
same process just before and after each round. We report medians.

Run: ``.venv/bin/python bench/fanout_bench.py [--rounds N] [--database-url URL]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aiohttp
import uvloop
from aiohttp import web
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from sqlalchemy import text

from node.actions.local_actors import build_local_actor
from node.config import Settings
from node.iris import coop_iris
from node.keyring import load_keyring
from node.outbound.client import create_client
from node.outbound.queue import bind_wakeup, enqueue
from node.outbound.worker import WorkerOptions, run_worker
from node.store import actors, deliveries
from node.store.db import create_engine, create_sessions, transaction
from node.store.models import ActorKind
from node.store.schema import upgrade
from protocol.errors import SignatureError
from protocol.http import HttpRequest
from protocol.httpsig import parse_signature, verify
from protocol.keys import load_public_pem

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

    from node.store.db import Sessions

BASE = "http://127.0.0.1:8000"
SENDER = coop_iris(BASE).id
INBOXES = 1000
PORTS = 20


# -- the receivers (a separate process) -------------------------------------------------------


def receivers(pipe: Connection, ports: int, public_pem: str, key_id: str) -> None:
    """Serve ``ports`` loopback ports; send the bound ports back; serve /stats until killed."""
    uvloop.run(_receivers(pipe, ports, public_pem, key_id))


async def _receivers(pipe: Connection, ports: int, public_pem: str, key_id: str) -> None:
    key = load_public_pem(public_pem, key_id, SENDER)
    counts: dict[str, int] = {}
    verified: set[int] = set()
    failures: list[str] = []

    async def inbox(request: web.Request) -> web.Response:
        body = await request.read()
        port = request.url.port or 0
        if port not in verified:  # one full verification per port (domain)
            signed = HttpRequest.build("POST", str(request.url), request.headers.items(), body)
            try:
                verify(signed, parse_signature(signed), key, now=datetime.now(UTC))
                verified.add(port)
            except SignatureError as exc:  # only if signing broke
                failures.append(repr(exc))
                return web.Response(status=401)
        path = f"{port}{request.path}"
        counts[path] = counts.get(path, 0) + 1
        return web.Response(status=202)

    async def stats(_request: web.Request) -> web.Response:
        return web.json_response(
            {"requests": sum(counts.values()), "distinct": len(counts), "failures": failures}
        )

    app = web.Application()
    app.router.add_post("/{tail:.*}", inbox)
    app.router.add_get("/stats", stats)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    for _ in range(ports):
        await web.TCPSite(runner, "127.0.0.1", 0, backlog=1024).start()
    pipe.send([int(address[1]) for address in runner.addresses])
    await asyncio.Event().wait()


# -- the sender --------------------------------------------------------------------------------


def bare_sign_rate(key: rsa.RSAPrivateKey, count: int = 600) -> tuple[float, float]:
    """Signatures per wall second and per CPU second: cryptography's RSA-2048 PKCS#1 v1.5."""
    messages = [f"(request-target): post /inbox/{n}\nhost: h{n}".encode() for n in range(count)]
    pkcs1, sha256 = padding.PKCS1v15(), hashes.SHA256()
    started, cpu = time.perf_counter(), time.process_time()
    for message in messages:
        key.sign(message, pkcs1, sha256)
    return count / (time.perf_counter() - started), count / (time.process_time() - cpu)


def activity(number: int) -> dict[str, Any]:
    note = f"{SENDER}/notes/{number}"
    return {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{note}/activity",
        "type": "Create",
        "actor": SENDER,
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
        "cc": [f"{SENDER}/followers"],
        "object": {
            "id": note,
            "type": "Note",
            "attributedTo": SENDER,
            "content": "<p>" + "A care circle update. " * 40 + "</p>",
        },
    }


async def pending(sessions: Sessions) -> int:
    async with sessions() as session:
        return await deliveries.count_pending(session)


async def one_round(sessions: Sessions, urls: list[str], number: int) -> tuple[float, float, float]:
    """Queue one activity to every url (the commit wakes the worker); time until all delivered.

    Returns the enqueue time, and the wall and CPU seconds from commit to the
    last row recorded delivered.
    """
    started = time.perf_counter()
    async with transaction(sessions) as session:
        await enqueue(session, activity(number), SENDER, urls)
    began, cpu = time.perf_counter(), time.process_time()
    while await pending(sessions):
        await asyncio.sleep(0.025)
    return began - started, time.perf_counter() - began, time.process_time() - cpu


async def main(args: argparse.Namespace) -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="fanout-"))
    url = args.database_url or f"sqlite+aiosqlite:///{data_dir / 'bench.sqlite3'}"
    settings = Settings(data_dir, BASE, "river", "River Care", url, local_dev=True)
    engine = create_engine(settings)
    if not settings.is_sqlite:  # a scratch schema on a shared server
        async with engine.begin() as connection:
            for table in ("deliveries", "domain_health", "outgoing_activities"):
                await connection.execute(text(f"DROP TABLE IF EXISTS {table} CASCADE"))
    await upgrade(engine)
    sessions = create_sessions(engine)
    actor = build_local_actor(
        iris=coop_iris(BASE), kind=ActorKind.COOP, handle="river", domain="127.0.0.1:8000",
        name="River Care", now=datetime.now(UTC),
    )  # fmt: skip
    async with transaction(sessions) as session:
        if await actors.get_actor_by_iri(session, SENDER) is None:
            await actors.add_actor(session, actor)
    keyring = await load_keyring(sessions)
    signing = keyring.signing_key(SENDER)
    assert signing is not None
    assert isinstance(signing.key, rsa.RSAPrivateKey)

    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    public = signing.public(SENDER)
    server = context.Process(
        target=receivers, args=(theirs, args.ports, public.pem(), public.id), daemon=True
    )
    server.start()
    try:
        ports: list[int] = ours.recv()
        urls = [
            f"http://127.0.0.1:{ports[n % len(ports)]}/users/u{n}/inbox" for n in range(INBOXES)
        ]
        wakeup, stop = asyncio.Event(), asyncio.Event()
        bind_wakeup(sessions, wakeup)
        options = WorkerOptions(idle_poll=0.5, sign_in_thread=not args.sign_on_loop)
        client = create_client(settings)
        worker = asyncio.create_task(
            run_worker(settings, sessions, keyring, client, stop, wakeup=wakeup, options=options,
                       concurrency=args.concurrency, per_domain=args.per_domain, batch=200)
        )  # fmt: skip
        await one_round(sessions, urls, 0)  # warm-up: connections, caches
        rates, signs, cpu_rates, cpu_signs, enqueues = [], [], [], [], []
        for number in range(1, args.rounds + 1):
            before = bare_sign_rate(signing.key)
            queued, took, cpu = await one_round(sessions, urls, number)
            after = bare_sign_rate(signing.key)
            rates.append(INBOXES / took)
            signs.append((before[0] + after[0]) / 2)
            cpu_rates.append(INBOXES / cpu)
            cpu_signs.append((before[1] + after[1]) / 2)
            enqueues.append(queued)
        stop.set()
        stats = await worker
        await client.close()
        if stats.delivered != INBOXES * (args.rounds + 1):
            raise SystemExit(f"the worker reports {stats}")
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"http://127.0.0.1:{ports[0]}/stats") as response,
        ):
            received = json.loads(await response.text())
    finally:
        server.kill()
        await engine.dispose()

    rate, sign_rate = statistics.median(rates), statistics.median(signs)
    ratios = [r / s for r, s in zip(rates, signs, strict=True)]
    cpu_ratios = [r / s for r, s in zip(cpu_rates, cpu_signs, strict=True)]
    where = "on the event loop" if args.sign_on_loop else "in a thread"
    print(f"database: {'SQLite' if settings.is_sqlite else 'PostgreSQL'}; {INBOXES} inboxes on "
          f"{len(ports)} loopback ports; concurrency {args.concurrency}, "
          f"{args.per_domain} per domain; signing {where}; "
          f"{args.rounds} rounds (+1 warm-up)")  # fmt: skip
    print(f"  enqueue 1 activity -> {INBOXES} rows: {statistics.median(enqueues) * 1000:7.1f} ms")
    print(f"  deliveries/s (claim, sign, POST, record): {rate:9.0f}")
    print(f"  bare RSA-2048 signs/s, same process:      {sign_rate:9.0f}")
    print(f"  ratio (median of per-round ratios):       {statistics.median(ratios):9.2f}x"
          f"   (goal >= 0.5x)")  # fmt: skip
    print(f"  per CPU second of the sender process: {statistics.median(cpu_rates):7.0f} deliveries"
          f" vs {statistics.median(cpu_signs):7.0f} signs = "
          f"{statistics.median(cpu_ratios):.2f}x")  # fmt: skip
    print(f"  receivers: {received['requests']} requests, {received['distinct']} distinct "
          f"(expected {INBOXES * (args.rounds + 1)} / {INBOXES}), "
          f"signature failures: {len(received['failures'])}")  # fmt: skip


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--ports", type=int, default=PORTS)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--per-domain", type=int, default=8)
    parser.add_argument("--sign-on-loop", action="store_true", help="no signing thread")
    parser.add_argument("--database-url", help="default: a fresh SQLite file")
    return parser.parse_args()


if __name__ == "__main__":
    uvloop.run(main(parse_args()))
