"""Named queries for outbound delivery: the outbox rows, claiming them, and domain health.

Callers pass a session from :func:`node.store.db.transaction`; these functions
never commit. The claim is one atomic ``UPDATE … RETURNING`` whose subquery
takes ``FOR UPDATE SKIP LOCKED`` on PostgreSQL (any number of workers, never
two on one row) and plain row selection on SQLite, where the single writer
already serialises claims (SQLAlchemy renders no FOR UPDATE for SQLite).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, exists, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from node.store.models import Delivery, DeliveryState, DomainHealth, OutgoingActivity

if TYPE_CHECKING:
    from collections.abc import Collection, Iterable, Sequence
    from datetime import datetime

    from sqlalchemy.ext.asyncio import AsyncSession

__all__ = [
    "ClaimedDelivery",
    "DeliveryUpdate",
    "activity_bodies",
    "add_activity",
    "add_deliveries",
    "claim_due",
    "count_by_state",
    "count_pending",
    "domain_health",
    "lock_domain_health",
    "next_due",
    "prune_finished",
    "record_deliveries",
    "release",
    "remove_activity",
    "reset_domain",
    "take_probe",
    "unavailable_domains",
]

_PENDING = DeliveryState.PENDING


@dataclass(frozen=True, slots=True)
class ClaimedDelivery:
    """A row this worker now holds a lease on."""

    id: int
    activity_id: int
    inbox: str
    domain: str
    attempts: int


@dataclass(frozen=True, slots=True)
class DeliveryUpdate:
    """What one attempt (or deferral) changes on its row; the lease is always released."""

    id: int
    state: DeliveryState
    attempts: int
    next_attempt_at: datetime
    last_status: int | None
    last_error: str | None
    delivered_at: datetime | None


async def add_activity(
    session: AsyncSession, iri: str, actor_iri: str, body: bytes, now: datetime
) -> int:
    """Store the activity's bytes once; return its row id."""
    row = OutgoingActivity(iri=iri, actor_iri=actor_iri, body=body, created=now)
    session.add(row)
    await session.flush()
    return row.id


async def remove_activity(session: AsyncSession, activity_id: int) -> None:
    """Delete an activity row (and, by cascade, its deliveries)."""
    query = delete(OutgoingActivity).where(OutgoingActivity.id == activity_id)
    await session.execute(query.execution_options(synchronize_session=False))


async def add_deliveries(
    session: AsyncSession, activity_id: int, targets: Sequence[tuple[str, str]], now: datetime
) -> None:
    """One pending row per ``(inbox, domain)``, due now; a single multi-row INSERT."""
    if not targets:
        return
    rows = [
        {
            "activity_id": activity_id,
            "inbox": inbox,
            "domain": domain,
            "state": _PENDING,
            "attempts": 0,
            "next_attempt_at": now,
            "created": now,
        }
        for inbox, domain in targets
    ]
    table = Delivery.metadata.tables[Delivery.__tablename__]
    await session.execute(insert(table), rows)  # Core executemany: no ORM bookkeeping per row


async def unavailable_domains(session: AsyncSession, domains: Collection[str]) -> set[str]:
    """Those of ``domains`` marked unavailable (failures on too many days)."""
    if not domains:
        return set()
    query = select(DomainHealth.domain).where(
        DomainHealth.domain.in_(domains), DomainHealth.unavailable
    )
    return set(await session.scalars(query))


async def claim_due(
    session: AsyncSession,
    now: datetime,
    lease_until: datetime,
    limit: int,
    *,
    exclude_domains: Collection[str] = (),
) -> list[ClaimedDelivery]:
    """Lease up to ``limit`` due rows whose lease is free and whose domain's circuit is closed.

    Rows of ``exclude_domains`` (those this worker already sends to at its
    per-domain cap) are left for later or for another worker.
    """
    circuit_open = exists().where(
        DomainHealth.domain == Delivery.domain, DomainHealth.circuit_open_until > now
    )
    due = (
        select(Delivery.id)
        .where(
            Delivery.state == _PENDING,
            Delivery.next_attempt_at <= now,
            or_(Delivery.locked_until.is_(None), Delivery.locked_until <= now),
            ~circuit_open,
        )
        .order_by(Delivery.next_attempt_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    if exclude_domains:
        due = due.where(Delivery.domain.not_in(exclude_domains))
    claim = (
        update(Delivery)
        .where(Delivery.id.in_(due))
        .values(locked_until=lease_until)
        .returning(
            Delivery.id, Delivery.activity_id, Delivery.inbox, Delivery.domain, Delivery.attempts
        )
        .execution_options(synchronize_session=False)
    )
    result = await session.execute(claim)
    return [ClaimedDelivery(*row) for row in result]


async def release(session: AsyncSession, ids: Collection[int]) -> None:
    """Give up the lease on rows claimed but not sent: claimable again at once."""
    if ids:
        query = update(Delivery).where(Delivery.id.in_(ids)).values(locked_until=None)
        await session.execute(query.execution_options(synchronize_session=False))


async def activity_bodies(
    session: AsyncSession, ids: Collection[int]
) -> dict[int, tuple[str, bytes]]:
    """``{activity id: (sender iri, body)}`` for the given activity rows."""
    if not ids:
        return {}
    query = select(OutgoingActivity.id, OutgoingActivity.actor_iri, OutgoingActivity.body).where(
        OutgoingActivity.id.in_(ids)
    )
    return {row_id: (actor, body) for row_id, actor, body in await session.execute(query)}


async def record_deliveries(session: AsyncSession, updates: Sequence[DeliveryUpdate]) -> None:
    """Write outcomes; rows no longer pending are left alone.

    Rows with the same new values share one ``UPDATE … WHERE id IN (…)``: a
    batch of successes (same status, same time) is a single statement. The
    state guard matters after a lease ran out: a row another worker has since
    delivered is not set back.
    """
    groups: dict[tuple[Any, ...], list[int]] = {}
    for item in updates:
        values = (
            item.state,
            item.attempts,
            item.next_attempt_at,
            item.last_status,
            item.last_error,
            item.delivered_at,
        )
        groups.setdefault(values, []).append(item.id)
    for (state, attempts, when, status, error, delivered_at), ids in groups.items():
        query = (
            update(Delivery)
            .where(Delivery.id.in_(ids), Delivery.state == _PENDING)
            .values(
                state=state,
                attempts=attempts,
                next_attempt_at=when,
                last_status=status,
                last_error=error,
                delivered_at=delivered_at,
                locked_until=None,
            )
        )
        await session.execute(query.execution_options(synchronize_session=False))


async def next_due(session: AsyncSession, now: datetime) -> datetime | None:
    """The earliest future moment a pending row becomes due or its lease ends."""
    due = select(func.min(Delivery.next_attempt_at)).where(
        Delivery.state == _PENDING, Delivery.next_attempt_at > now
    )
    lease = select(func.min(Delivery.locked_until)).where(
        Delivery.state == _PENDING, Delivery.locked_until > now
    )
    row = (await session.execute(select(due.scalar_subquery(), lease.scalar_subquery()))).one()
    moments = [moment for moment in row if moment is not None]
    return min(moments) if moments else None


async def domain_health(session: AsyncSession, domains: Collection[str]) -> dict[str, DomainHealth]:
    """The stored health of those ``domains`` that have a row (a plain read, no lock)."""
    if not domains:
        return {}
    query = select(DomainHealth).where(DomainHealth.domain.in_(domains))
    rows = await session.scalars(query.execution_options(populate_existing=True))
    return {row.domain: row for row in rows}


async def lock_domain_health(
    session: AsyncSession, domains: Collection[str]
) -> dict[str, DomainHealth]:
    """A row per domain (created if missing), locked until commit on PostgreSQL.

    Locked in domain order so two workers recording at once cannot deadlock;
    changes made to the returned objects are written at commit.
    """
    if not domains:
        return {}
    dialect = session.get_bind().dialect.name
    build = postgresql.insert if dialect == "postgresql" else sqlite.insert
    values = [{"domain": domain} for domain in sorted(domains)]
    await session.execute(build(DomainHealth).values(values).on_conflict_do_nothing())
    query = (
        select(DomainHealth)
        .where(DomainHealth.domain.in_(domains))
        .order_by(DomainHealth.domain)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return {row.domain: row for row in await session.scalars(query)}


async def take_probe(session: AsyncSession, domain: str, now: datetime, until: datetime) -> bool:
    """Win the one half-open probe for ``domain``: True for exactly one caller per cool-off."""
    query = (
        update(DomainHealth)
        .where(
            DomainHealth.domain == domain,
            or_(DomainHealth.circuit_open_until.is_(None), DomainHealth.circuit_open_until <= now),
        )
        .values(circuit_open_until=until)
        .execution_options(synchronize_session=False)
    )
    result = await session.execute(query)
    return bool(getattr(result, "rowcount", 0))


async def reset_domain(session: AsyncSession, domain: str) -> bool:
    """Forget a domain's failures (it answered); True if there was anything to forget."""
    query = (
        update(DomainHealth)
        .where(
            DomainHealth.domain == domain,
            or_(
                DomainHealth.unavailable,
                DomainHealth.consecutive_failures > 0,
                DomainHealth.failure_days > 0,
                DomainHealth.circuit_open_until.is_not(None),
            ),
        )
        .values(
            consecutive_failures=0,
            circuit_open_until=None,
            failure_days=0,
            first_failure_day=None,
            last_failure_day=None,
            unavailable=False,
        )
        .execution_options(synchronize_session=False)
    )
    result = await session.execute(query)
    return bool(getattr(result, "rowcount", 0))


async def count_by_state(
    session: AsyncSession, activity_ids: Iterable[int] | None = None
) -> dict[DeliveryState, int]:
    """How many rows are in each state (of the given activities, or all)."""
    query = select(Delivery.state, func.count()).group_by(Delivery.state)
    if activity_ids is not None:
        query = query.where(Delivery.activity_id.in_(list(activity_ids)))
    return {
        DeliveryState(state): int(count) for state, count in (await session.execute(query)).all()
    }


async def count_pending(session: AsyncSession) -> int:
    """How many rows are waiting to be sent (an index-only count)."""
    query = select(func.count()).select_from(Delivery).where(Delivery.state == _PENDING)
    return await session.scalar(query) or 0


async def prune_finished(session: AsyncSession, before: datetime) -> int:
    """Delete finished rows created before ``before``, then activities left with no rows."""
    finished = Delivery.state.in_(
        [DeliveryState.DELIVERED, DeliveryState.FAILED, DeliveryState.CANCELLED]
    )
    result = await session.execute(
        delete(Delivery)
        .where(finished, Delivery.created < before)
        .execution_options(synchronize_session=False)
    )
    orphan = ~exists().where(Delivery.activity_id == OutgoingActivity.id)
    await session.execute(
        delete(OutgoingActivity)
        .where(OutgoingActivity.created < before, orphan)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0))
