"""Named queries for moderation: reports (Flag), blocks received, blocked domains."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import delete, exists, func, select

from node.store.models import Block, DomainBlock, Report

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

__all__ = [
    "add_block",
    "add_domain_block",
    "add_report",
    "domain_is_blocked",
    "get_block",
    "is_blocked_by",
    "list_reports",
    "remove_block",
    "remove_blocks_by",
    "suffixes",
]


async def add_report(session: AsyncSession, report: Report) -> Report:
    """Keep a Flag for the moderators."""
    session.add(report)
    await session.flush()
    return report


async def list_reports(session: AsyncSession, *, resolved: bool = False) -> list[Report]:
    """Reports, oldest first (open ones unless ``resolved``)."""
    query = select(Report).where(Report.resolved == resolved).order_by(Report.id)
    return list(await session.scalars(query))


async def get_block(session: AsyncSession, blocker: str, blocked: str) -> Block | None:
    """The block of ``blocked`` by ``blocker``, if recorded."""
    query = select(Block).where(Block.blocker_iri == blocker, Block.blocked_iri == blocked)
    return await session.scalar(query)


async def add_block(session: AsyncSession, block: Block) -> Block:
    """Record a block received; flushes so a duplicate pair fails now."""
    session.add(block)
    await session.flush()
    return block


async def remove_block(session: AsyncSession, blocker: str, blocked: str) -> None:
    """Forget a block (the blocker sent Undo(Block))."""
    await session.execute(
        delete(Block).where(Block.blocker_iri == blocker, Block.blocked_iri == blocked)
    )


async def remove_blocks_by(session: AsyncSession, blocker: str) -> None:
    """Forget every block by ``blocker`` (the actor is gone)."""
    await session.execute(delete(Block).where(Block.blocker_iri == blocker))


async def is_blocked_by(session: AsyncSession, blocked: str, blocker: str) -> bool:
    """Whether ``blocker`` has blocked ``blocked`` (so nothing of theirs goes to it)."""
    query = select(exists().where(Block.blocker_iri == blocker, Block.blocked_iri == blocked))
    return bool(await session.scalar(query))


def suffixes(host: str) -> list[str]:
    """``a.b.example`` → ``[a.b.example, b.example, example]``: a block covers subdomains."""
    labels = host.lower().split(".")
    return [".".join(labels[i:]) for i in range(len(labels))]


async def domain_is_blocked(session: AsyncSession, host: str) -> bool:
    """Whether ``host`` or a domain above it is blocked (Mastodon blocks subdomains too)."""
    query = select(func.count()).where(DomainBlock.domain.in_(suffixes(host)))
    return bool(await session.scalar(query))


async def add_domain_block(session: AsyncSession, block: DomainBlock) -> DomainBlock:
    """Block a domain; its requests are refused with 403 from now on."""
    session.add(block)
    await session.flush()
    return block
