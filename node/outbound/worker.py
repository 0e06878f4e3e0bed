"""The delivery worker: claim due rows, send them concurrently, record what happened.

Restartable at any moment (Takahē's Stator promise). A claimed row carries a
lease (``locked_until``); a worker that is killed leaves its rows to be
claimed again when the lease runs out, so nothing is lost. The price is a
possible second POST of an activity that was sent just before the kill, which
receivers dedupe by activity id. On PostgreSQL any number of workers claim
with ``FOR UPDATE SKIP LOCKED`` and never share a row; on SQLite the single
writer serialises claims.

Throughput: claims and outcomes are written in batches (one transaction for
many rows), each activity's bytes are loaded once, and one aiohttp session
carries every POST. Concurrency is bounded overall and per domain, and a
domain whose circuit is open costs no request at all.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import Counter, OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Literal

from sqlalchemy.exc import SQLAlchemyError

from node.keyring import load_keyring
from node.outbound.deliver import (
    Delivered,
    GiveUp,
    Parcel,
    RetryAt,
    RetryPolicy,
    attempt,
    next_attempt,
)
from node.outbound.health import (
    DomainState,
    HealthPolicy,
    after_failure,
    after_success,
    is_open,
    tripped,
)
from node.outbound.signing import SigningThread
from node.store import deliveries
from node.store.db import transaction
from node.store.models import DeliveryState
from protocol.errors import UnsafeURL
from protocol.httpsig import Scheme
from protocol.safety import check_url

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    import aiohttp
    from sqlalchemy.ext.asyncio import AsyncSession

    from node.config import Settings
    from node.keyring import Keyring
    from node.outbound.deliver import Outcome
    from node.store.db import Sessions
    from node.store.deliveries import ClaimedDelivery, DeliveryUpdate
    from node.store.models import DomainHealth
    from protocol.keys import SigningKey

__all__ = ["WorkerOptions", "WorkerStats", "run_worker"]

log = logging.getLogger("node.outbound")

_BODY_CACHE = 256  # activities whose bytes stay in memory between claims
_URL_CACHE = 10_000  # inbox URLs already checked by protocol.safety
_DB_RETRY_PAUSE = 1.0  # seconds to wait after a database error before trying again
Event = Literal["failure", "success"] | None


@dataclass(frozen=True, slots=True)
class WorkerOptions:
    """Tuning knobs; the defaults suit production (tests shorten the times).

    ``lease`` must outlast one attempt (two 10 s POSTs when double-knocking)
    plus recording; the claim keeps only rows that start sending at once.
    """

    lease: timedelta = timedelta(seconds=60)
    idle_poll: float = 1.0
    flush_interval: float = 0.05
    flush_size: int = 256
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    health: HealthPolicy = field(default_factory=HealthPolicy)
    keyring_reload: float = 30.0
    keep_finished: timedelta = timedelta(days=7)
    prune_every: float = 3600.0
    sign_in_thread: bool = True  # keeps the event loop (and serve) responsive; see signing.py


@dataclass(frozen=True, slots=True)
class WorkerStats:
    """What one run of the worker did (``deferred``: not sent, the domain's circuit was open)."""

    delivered: int
    retried: int
    failed: int
    deferred: int
    requests: int


@dataclass(frozen=True, slots=True)
class _Deferred:
    until: datetime


@dataclass(frozen=True, slots=True)
class _Result:
    row: ClaimedDelivery
    outcome: Outcome | _Deferred
    event: Event = None
    accepted: Scheme | None = None
    requests: int = 0
    health: bool = False  # the domain's stored health must change


@dataclass(frozen=True, slots=True)
class _Domain:
    state: DomainState = field(default_factory=DomainState)
    scheme: Scheme | None = None


def _utcnow() -> datetime:
    return datetime.now(UTC)


async def run_worker(
    settings: Settings,
    sessions: Sessions,
    keyring: Keyring,
    client: aiohttp.ClientSession,
    stop_event: asyncio.Event,
    *,
    batch: int = 100,
    concurrency: int = 64,
    per_domain: int = 8,
    wakeup: asyncio.Event | None = None,
    options: WorkerOptions | None = None,
    clock: Callable[[], datetime] = _utcnow,
    rng: random.Random | None = None,
) -> WorkerStats:
    """Deliver until ``stop_event`` is set, then finish what is in flight and return.

    ``wakeup`` is set by in-process code that queued work (see
    :func:`node.outbound.queue.bind_wakeup`); without it, new rows are found
    within ``options.idle_poll`` seconds. Cancelling the task stops at once:
    rows in flight keep their lease and are retried after it.
    """
    if batch < 1 or concurrency < 1 or per_domain < 1:
        raise ValueError("batch, concurrency and per_domain must be at least 1")
    worker = _Worker(settings, sessions, keyring, client, stop_event, wakeup)
    worker.configure(batch, concurrency, per_domain, options or WorkerOptions(), clock, rng)
    return await worker.run()


class _Worker:
    """The loop's state: rows in flight, results not yet written, domains seen."""

    def __init__(
        self,
        settings: Settings,
        sessions: Sessions,
        keyring: Keyring,
        client: aiohttp.ClientSession,
        stop: asyncio.Event,
        wakeup: asyncio.Event | None,
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.keyring = keyring
        self.client = client
        self.stop = stop
        self.wakeup = wakeup
        self.inflight: dict[asyncio.Task[_Result], ClaimedDelivery] = {}
        self.load: Counter[str] = Counter()
        self.domains: dict[str, _Domain] = {}
        # Results noted in memory but not yet written, per domain.
        self.dirty: Counter[str] = Counter()
        self.results: list[_Result] = []
        self.first_result_at = 0.0
        self.idle_until = 0.0
        self.backlogged: set[str] = set()
        self.bodies: OrderedDict[int, tuple[str, bytes]] = OrderedDict()
        self.urls: dict[str, str | UnsafeURL] = {}
        self.counts: Counter[str] = Counter()
        self.keyring_loaded_at = 0.0
        self.pruned_at = 0.0
        self.signals: dict[str, asyncio.Task[Literal[True]]] = {}
        self.signer: SigningThread | None = None
        self.finished: list[asyncio.Task[_Result]] = []
        self.progress = asyncio.Event()  # set when a send finishes

    def configure(
        self,
        batch: int,
        concurrency: int,
        per_domain: int,
        options: WorkerOptions,
        clock: Callable[[], datetime],
        rng: random.Random | None,
    ) -> None:
        self.batch = batch
        self.concurrency = concurrency
        self.per_domain = per_domain
        self.refill = max(1, min(batch, concurrency // 4))
        self.options = options
        self.clock = clock
        self.rng = rng or random.Random()  # noqa: S311 (jitter, not secrets)
        self.loop = asyncio.get_running_loop()

    # -- the loop ------------------------------------------------------------------------

    async def run(self) -> WorkerStats:
        if self.options.sign_in_thread:
            self.signer = SigningThread()
        try:
            while not self.stop.is_set():
                if self.wakeup is not None and self.wakeup.is_set():
                    self.wakeup.clear()
                    self.idle_until = 0.0
                await self.fill()
                if self.results and self.flush_due():
                    await self.flush()
                await self.wait()
            await self.drain()
        finally:
            for task in (*self.inflight, *self.signals.values()):
                task.cancel()
            if self.signer is not None:
                self.signer.close()
        return WorkerStats(
            delivered=self.counts["delivered"],
            retried=self.counts["retried"],
            failed=self.counts["failed"],
            deferred=self.counts["deferred"],
            requests=self.counts["requests"],
        )

    async def fill(self) -> None:
        """Claim rows for the free slots, unless the queue was found empty a moment ago."""
        free = self.concurrency - len(self.inflight)
        if free < 1 or (self.inflight and free < self.refill):
            return
        if self.loop.time() < self.idle_until:
            return
        if self.results:  # write first: a worker never holds more than `concurrency` leases
            await self.flush()
        limit = min(free, self.batch)
        try:
            claimed, returned, dropped = await self.claim(limit)
        except (SQLAlchemyError, OSError) as exc:
            log.warning("delivery claim failed: %s", exc)
            self.idle_until = self.loop.time() + _DB_RETRY_PAUSE
            return
        if returned < limit:  # no more due rows for us: wait for a signal, a slot, or a poll
            self.idle_until = self.loop.time() + self.options.idle_poll
            busy = {domain for domain, n in self.load.items() if n >= self.per_domain}
            self.backlogged = busy | dropped
        for row, probe, (actor, body) in claimed:
            task = asyncio.create_task(self.send(row, probe, actor, body))
            task.add_done_callback(self.finish)
            self.inflight[task] = row
            self.load[row.domain] += 1

    async def wait(self) -> None:
        """Sleep until a send finishes, a signal arrives, results are due, or rows fall due."""
        now = self.loop.time()
        deadlines = []
        if self.results:
            deadlines.append(self.first_result_at + self.options.flush_interval)
        if self.idle_until > now:
            deadlines.append(self.idle_until)
            if not self.inflight:
                deadlines.append(now + await self.seconds_to_next_due())
                await self.maybe_prune()
        timeout = max(0.0, min(deadlines) - now) if deadlines else None
        # Only the signal waiters: asyncio.wait on every send would cost O(in flight) per wake.
        await asyncio.wait(
            self.signal_tasks(), timeout=timeout, return_when=asyncio.FIRST_COMPLETED
        )
        self.collect_finished()

    async def drain(self) -> None:
        """Stop claiming; let the rows in flight finish (bounded by the HTTP timeouts); record."""
        while self.inflight:
            await self.progress.wait()
            self.collect_finished()
        for _ in range(3):
            if not self.results:
                return
            await self.flush()
            if self.results:
                await asyncio.sleep(_DB_RETRY_PAUSE)

    def signal_tasks(self) -> list[asyncio.Task[Literal[True]]]:
        for name, event in (("stop", self.stop), ("wakeup", self.wakeup), ("sent", self.progress)):
            task = self.signals.get(name)
            if event is not None and (task is None or task.done()):
                self.signals[name] = asyncio.create_task(event.wait())
        return list(self.signals.values())

    async def seconds_to_next_due(self) -> float:
        now = self.clock()
        try:
            async with self.sessions() as session:
                due = await deliveries.next_due(session, now)
        except (SQLAlchemyError, OSError) as exc:
            log.warning("delivery queue read failed: %s", exc)
            return _DB_RETRY_PAUSE
        return self.options.idle_poll if due is None else max(0.0, (due - now).total_seconds())

    # -- claiming --------------------------------------------------------------------------

    async def claim(
        self, limit: int
    ) -> tuple[list[tuple[ClaimedDelivery, bool, tuple[str, bytes]]], int, set[str]]:
        """Lease due rows and keep those that can start now.

        Returns the kept rows (with probe flag and activity bytes), how many
        rows the database returned, and the domains of rows given back.
        """
        now = self.clock()
        busy = {domain for domain, n in self.load.items() if n >= self.per_domain}
        # Circuits this worker saw trip but has not written yet count as open too.
        busy |= {domain for domain in self.dirty if is_open(self.domains[domain].state, now)}
        async with transaction(self.sessions) as session:
            rows = await deliveries.claim_due(
                session, now, now + self.options.lease, limit, exclude_domains=busy
            )
            if not rows:
                return [], 0, set()
            await self.refresh_domains(session, {row.domain for row in rows})
            kept, dropped = await self.trim(session, rows, now)
            await deliveries.release(session, [row.id for row in dropped])
            bodies = await self.load_bodies(session, {row.activity_id for row, _ in kept})
        sendable = [(row, probe, bodies[row.activity_id]) for row, probe in kept]
        return sendable, len(rows), {row.domain for row in dropped}

    async def refresh_domains(self, session: AsyncSession, domains: set[str]) -> None:
        fresh = domains - self.dirty.keys()  # unwritten results are newer than the database
        stored = await deliveries.domain_health(session, fresh)
        for domain in fresh:
            row = stored.get(domain)
            self.domains[domain] = _Domain() if row is None else _view(row)

    async def trim(
        self, session: AsyncSession, rows: Sequence[ClaimedDelivery], now: datetime
    ) -> tuple[list[tuple[ClaimedDelivery, bool]], list[ClaimedDelivery]]:
        """Keep what can be sent at once: the per-domain cap, one probe for a tripped domain."""
        load = Counter(self.load)
        kept: list[tuple[ClaimedDelivery, bool]] = []
        dropped: list[ClaimedDelivery] = []
        for row in sorted(rows, key=lambda item: item.id):
            state = self.domains[row.domain].state
            if tripped(state, self.options.health):
                # The claim saw the cool-off over: half-open, exactly one probe (per cluster).
                until = now + self.options.lease
                probe = load[row.domain] == 0 and await deliveries.take_probe(
                    session, row.domain, now, until
                )
                if probe:
                    load[row.domain] += 1
                    kept.append((row, True))
                else:
                    dropped.append(row)
            elif load[row.domain] < self.per_domain:
                load[row.domain] += 1
                kept.append((row, False))
            else:
                dropped.append(row)
        return kept, dropped

    async def load_bodies(
        self, session: AsyncSession, ids: set[int]
    ) -> dict[int, tuple[str, bytes]]:
        missing = ids - self.bodies.keys()
        self.bodies.update(await deliveries.activity_bodies(session, missing))
        found = {}
        for activity_id in ids:
            self.bodies.move_to_end(activity_id)
            found[activity_id] = self.bodies[activity_id]
        while len(self.bodies) > _BODY_CACHE:
            self.bodies.popitem(last=False)
        return found

    # -- sending ---------------------------------------------------------------------------

    async def send(self, row: ClaimedDelivery, probe: bool, actor: str, body: bytes) -> _Result:
        """One row: skip it while its circuit is open, else sign and POST it."""
        now = self.clock()
        domain = self.domains.get(row.domain, _Domain())
        if not probe and is_open(domain.state, now) and domain.state.circuit_open_until:
            return _Result(row, _Deferred(domain.state.circuit_open_until))
        inbox = self.checked_url(row.inbox)
        if isinstance(inbox, UnsafeURL):
            return _Result(row, GiveUp(f"refused: {inbox}"))
        key = await self.signing_key(actor)
        if key is None:
            return _Result(row, RetryAt(None, f"no signing key for {actor}"))
        scheme = domain.scheme or Scheme.RFC9421
        parcel = Parcel(inbox, body)
        tried = await attempt(self.client, parcel, key, scheme, now, signer=self.signer)
        event: Event = None
        if isinstance(tried.outcome, RetryAt):
            event = "failure"
        elif tried.answered:
            event = "success"
        health = self.note(row.domain, event, tried.accepted)
        return _Result(row, tried.outcome, event, tried.accepted, tried.requests, health)

    def checked_url(self, inbox: str) -> str | UnsafeURL:
        """``protocol.safety.check_url`` of an inbox, remembered (inboxes repeat)."""
        checked = self.urls.get(inbox)
        if checked is None:
            local_dev = self.settings.local_dev
            try:
                checked = check_url(inbox, allow_http=local_dev, allow_private=local_dev).url
            except UnsafeURL as exc:
                checked = exc
            if len(self.urls) >= _URL_CACHE:
                self.urls.clear()
            self.urls[inbox] = checked
        return checked

    async def signing_key(self, actor: str) -> SigningKey | None:
        """The sender's RSA key; reload the keyring (rate-limited) for actors made since start."""
        key = self.keyring.signing_key(actor, "rsa")
        if key is None and self.loop.time() - self.keyring_loaded_at > self.options.keyring_reload:
            self.keyring_loaded_at = self.loop.time()
            try:
                self.keyring = await load_keyring(self.sessions)
            except (SQLAlchemyError, OSError) as exc:
                log.warning("keyring reload failed: %s", exc)
            key = self.keyring.signing_key(actor, "rsa")
        return key

    def note(self, domain: str, event: Event, accepted: Scheme | None) -> bool:
        """Apply a result to the in-memory view at once, so later rows see a tripped circuit.

        Returns whether the stored health changes; a success on a healthy
        domain whose scheme we already know (the common case) writes nothing.
        """
        view = self.domains.get(domain, _Domain())
        state = _apply(view.state, event, self.clock(), self.options.health)
        scheme = accepted or view.scheme
        self.domains[domain] = _Domain(state, scheme)
        changed = state != view.state or event == "failure" or scheme != view.scheme
        if changed:
            self.dirty[domain] += 1
        return changed

    # -- recording -------------------------------------------------------------------------

    def finish(self, task: asyncio.Task[_Result]) -> None:
        """Done callback of each send: queue it for collection and wake the loop."""
        self.finished.append(task)
        self.progress.set()

    def collect_finished(self) -> None:
        self.progress.clear()
        finished, self.finished = self.finished, []
        for task in finished:
            self.collect(self.inflight.pop(task), task.result())

    def collect(self, row: ClaimedDelivery, result: _Result) -> None:
        self.load[row.domain] -= 1
        if self.load[row.domain] <= 0:
            del self.load[row.domain]
        if row.domain in self.backlogged:  # capacity freed for a domain with rows waiting
            self.idle_until = 0.0
        if not self.results:
            self.first_result_at = self.loop.time()
        self.results.append(result)
        self.counts["requests"] += result.requests

    def flush_due(self) -> bool:
        return (
            not self.inflight
            or len(self.results) >= self.options.flush_size
            or self.loop.time() - self.first_result_at >= self.options.flush_interval
        )

    async def flush(self) -> None:
        """Write every collected outcome and the domains' health in one transaction."""
        results, self.results = self.results, []
        now = self.clock()
        updates = [self.update_for(result, now) for result in results]
        touched = {result.row.domain for result in results if result.health}
        try:
            async with transaction(self.sessions) as session:
                await deliveries.record_deliveries(session, updates)
                stored = await deliveries.lock_domain_health(session, touched)
                for result in results:
                    if result.health:
                        _record_health(stored[result.row.domain], result, now, self.options.health)
                views = {domain: _view(row) for domain, row in stored.items()}
        except (SQLAlchemyError, OSError) as exc:
            log.warning("recording %d delivery outcomes failed: %s", len(results), exc)
            self.results = results + self.results
            self.first_result_at = self.loop.time() + _DB_RETRY_PAUSE
            return
        self.dirty.subtract(result.row.domain for result in results if result.health)
        for domain, view in views.items():  # unless newer results are still unwritten
            if self.dirty[domain] <= 0:
                self.domains[domain] = view
                del self.dirty[domain]
        for result, update in zip(results, updates, strict=True):
            deferred = isinstance(result.outcome, _Deferred)
            self.counts["deferred" if deferred else _COUNTER[update.state]] += 1

    def update_for(self, result: _Result, now: datetime) -> DeliveryUpdate:
        """The row's new state: delivered, failed for good, or due again later."""
        row, outcome = result.row, result.outcome
        if isinstance(outcome, _Deferred):  # not attempted: the count stays
            return _update(row, DeliveryState.PENDING, row.attempts, outcome.until)
        attempts = row.attempts + 1
        if isinstance(outcome, Delivered):
            return _update(row, DeliveryState.DELIVERED, attempts, now, outcome.status, None, now)
        if isinstance(outcome, GiveUp):
            log.info("delivery %d to %s given up: %s", row.id, row.inbox, outcome.reason)
            return _update(row, DeliveryState.FAILED, attempts, now, outcome.status, outcome.reason)
        later = next_attempt(attempts, now, self.rng, self.options.retry)
        if later is None:
            reason = f"gave up after {attempts} attempts: {outcome.reason}"
            log.info("delivery %d to %s %s", row.id, row.inbox, reason)
            return _update(row, DeliveryState.FAILED, attempts, now, outcome.status, reason)
        when = later if outcome.when is None else max(later, outcome.when)
        return _update(row, DeliveryState.PENDING, attempts, when, outcome.status, outcome.reason)

    async def maybe_prune(self) -> None:
        """Now and then, while idle, delete rows finished longer ago than ``keep_finished``."""
        if self.loop.time() - self.pruned_at < self.options.prune_every:
            return
        self.pruned_at = self.loop.time()
        now = self.clock()
        try:
            async with transaction(self.sessions) as session:
                await deliveries.prune_finished(session, now - self.options.keep_finished)
        except (SQLAlchemyError, OSError) as exc:
            log.warning("pruning finished deliveries failed: %s", exc)


_COUNTER = {
    DeliveryState.DELIVERED: "delivered",
    DeliveryState.FAILED: "failed",
    DeliveryState.PENDING: "retried",
    DeliveryState.CANCELLED: "failed",
}


def _update(
    row: ClaimedDelivery,
    state: DeliveryState,
    attempts: int,
    when: datetime,
    status: int | None = None,
    error: str | None = None,
    delivered_at: datetime | None = None,
) -> DeliveryUpdate:
    return deliveries.DeliveryUpdate(
        row.id, state, attempts, when, status, None if error is None else error[:1000], delivered_at
    )


def _apply(state: DomainState, event: Event, now: datetime, policy: HealthPolicy) -> DomainState:
    if event == "failure":
        return after_failure(state, now, policy)
    if event == "success":
        return after_success(state)
    return state


def _view(row: DomainHealth) -> _Domain:
    state = DomainState(
        consecutive_failures=row.consecutive_failures,
        circuit_open_until=row.circuit_open_until,
        failure_days=row.failure_days,
        first_failure_day=row.first_failure_day,
        last_failure_day=row.last_failure_day,
        unavailable=row.unavailable,
    )
    return _Domain(state, row.signature_scheme)


def _record_health(row: DomainHealth, result: _Result, now: datetime, policy: HealthPolicy) -> None:
    """Apply one result to the locked ``domain_health`` row (fresh from the database)."""
    state = _apply(_view(row).state, result.event, now, policy)
    row.consecutive_failures = state.consecutive_failures
    row.circuit_open_until = state.circuit_open_until
    row.failure_days = state.failure_days
    row.first_failure_day = state.first_failure_day
    row.last_failure_day = state.last_failure_day
    row.unavailable = state.unavailable
    if result.accepted is not None:
        row.signature_scheme = result.accepted
