"""Named queries for actors and their keys.

Callers pass a session from :func:`node.store.db.transaction`; these functions
never commit, so several of them form one unit of work.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import func, select

from node.store.models import Actor, ActorKey, ActorKind

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

__all__ = [
    "add_actor",
    "count_local_actors",
    "current_keys",
    "get_actor_by_iri",
    "get_local_actor",
    "get_local_actor_by_handle",
    "local_signing_keys",
]


async def add_actor(session: AsyncSession, actor: Actor) -> Actor:
    """Insert ``actor`` and the keys it was built with; flushes so constraints are checked now."""
    session.add(actor)
    await session.flush()
    return actor


async def get_actor_by_iri(session: AsyncSession, iri: str) -> Actor | None:
    """The actor whose id is exactly ``iri``, local or remote."""
    return await session.scalar(select(Actor).where(Actor.iri == iri))


async def get_local_actor_by_handle(session: AsyncSession, handle: str) -> Actor | None:
    """The local actor (co-op, member or application) with this preferredUsername."""
    query = select(Actor).where(Actor.handle == handle, Actor.kind != ActorKind.REMOTE)
    return await session.scalar(query)


async def get_local_actor(session: AsyncSession, kind: ActorKind) -> Actor | None:
    """The first local actor of ``kind``: for the co-op and the application there is one."""
    return await session.scalar(select(Actor).where(Actor.kind == kind).order_by(Actor.id))


async def count_local_actors(session: AsyncSession, kind: ActorKind) -> int:
    """How many local actors of ``kind`` exist."""
    count = await session.scalar(select(func.count()).select_from(Actor).where(Actor.kind == kind))
    return count or 0


async def current_keys(session: AsyncSession, actor: Actor) -> list[ActorKey]:
    """The keys ``actor`` signs with now (one per algorithm), RSA first."""
    query = (
        select(ActorKey)
        .where(ActorKey.actor_id == actor.id, ActorKey.is_current)
        .order_by(ActorKey.algorithm.desc(), ActorKey.id)
    )
    return list(await session.scalars(query))


async def local_signing_keys(session: AsyncSession) -> list[tuple[str, ActorKey]]:
    """Every current private key of a local actor, as ``(actor iri, key)`` pairs."""
    query = (
        select(Actor.iri, ActorKey)
        .join(ActorKey.actor)
        .where(
            ActorKey.is_current, ActorKey.private_pem.is_not(None), Actor.kind != ActorKind.REMOTE
        )
        .order_by(ActorKey.id)
    )
    return [(iri, key) for iri, key in await session.execute(query)]
