"""Named queries for members (the people who log in to this node)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from node.store.models import Member

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

__all__ = ["add_member", "count_members", "get_member_by_username"]


async def add_member(session: AsyncSession, member: Member) -> Member:
    """Insert ``member`` (its actor must be added or attached); flushes to check constraints."""
    session.add(member)
    await session.flush()
    return member


async def get_member_by_username(session: AsyncSession, username: str) -> Member | None:
    """The member with this username, with its actor loaded."""
    query = select(Member).options(joinedload(Member.actor)).where(Member.username == username)
    return await session.scalar(query)


async def count_members(session: AsyncSession) -> int:
    """How many members the node has (NodeInfo ``usage.users.total``)."""
    return await session.scalar(select(func.count()).select_from(Member)) or 0
