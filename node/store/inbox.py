"""Named queries for the inbox log: one row per activity id, the redelivery guard.

The insert is ``ON CONFLICT DO NOTHING`` on both databases, so two deliveries
of the same activity racing in two processes still produce one row: the
second insert waits for the first transaction (PostgreSQL) or for the write
lock (SQLite), then finds the id taken and reports a duplicate.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite

from node.store.models import InboxLog

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

__all__ = ["count_entries", "get_entry", "record_activity"]


async def record_activity(session: AsyncSession, entry: InboxLog) -> bool:
    """Insert ``entry`` unless its activity id is logged already; True when it is new."""
    values: dict[str, Any] = {
        "activity_iri": entry.activity_iri,
        "activity_type": entry.activity_type,
        "object_type": entry.object_type,
        "actor_iri": entry.actor_iri,
        "received": entry.received,
        "raw": entry.raw,
    }
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(InboxLog)
        .values(values)
        .on_conflict_do_nothing(index_elements=[InboxLog.activity_iri])
        .returning(InboxLog.id)
    )
    inserted = (await session.execute(statement)).scalar_one_or_none()
    return inserted is not None


async def get_entry(session: AsyncSession, activity_iri: str) -> InboxLog | None:
    """The log row for ``activity_iri``."""
    return await session.scalar(select(InboxLog).where(InboxLog.activity_iri == activity_iri))


async def count_entries(session: AsyncSession) -> int:
    """How many activities the inbox has taken."""
    return await session.scalar(select(func.count()).select_from(InboxLog)) or 0
