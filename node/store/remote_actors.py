"""Named queries for the remote actor cache: actors fetched from elsewhere and their keys.

Remote actors share the ``actors`` table with local ones (``kind = remote``);
these functions never touch a local actor, so a remote document can never
overwrite one of ours.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite

from node.store.models import Actor, ActorKey, ActorKind

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from sqlalchemy.ext.asyncio import AsyncSession

__all__ = [
    "delete_remote_actor",
    "get_key_with_owner",
    "get_remote_actor",
    "replace_keys",
    "upsert_remote_actor",
]


async def get_remote_actor(session: AsyncSession, iri: str) -> Actor | None:
    """The cached remote actor whose id is ``iri``."""
    query = select(Actor).where(Actor.iri == iri, Actor.kind == ActorKind.REMOTE)
    return await session.scalar(query)


async def get_key_with_owner(session: AsyncSession, key_id: str) -> tuple[ActorKey, str] | None:
    """A stored key (local or remote) and its owner's IRI."""
    query = select(ActorKey, Actor.iri).join(ActorKey.actor).where(ActorKey.key_id == key_id)
    row = (await session.execute(query)).first()
    return None if row is None else (row[0], row[1])


async def upsert_remote_actor(
    session: AsyncSession, iri: str, published: Any, values: Mapping[str, Any]
) -> Actor | None:
    """Insert the remote actor ``iri`` or update it with ``values``; None if ``iri`` is local.

    One ``INSERT … ON CONFLICT DO UPDATE`` on both databases, and the first
    statement of the caller's unit of work when it comes first: on SQLite a
    transaction that reads before it writes fails if another connection
    committed in between (SQLITE_BUSY_SNAPSHOT), one that writes first waits.
    """
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    insert = dialect.insert(Actor).values(
        iri=iri, kind=ActorKind.REMOTE, published=published, **values
    )
    statement = insert.on_conflict_do_update(
        index_elements=[Actor.iri], set_=dict(values), where=Actor.kind == ActorKind.REMOTE
    ).returning(Actor.id)
    actor_id = (await session.execute(statement)).scalar_one_or_none()
    if actor_id is None:
        return None
    return await session.get(Actor, actor_id, populate_existing=True)


async def replace_keys(session: AsyncSession, actor: Actor, keys: Sequence[ActorKey]) -> None:
    """Make ``keys`` the remote ``actor``'s only keys (a refetch replaces them all)."""
    await session.execute(delete(ActorKey).where(ActorKey.actor_id == actor.id))
    for key in keys:
        key.actor_id = actor.id
        session.add(key)
    await session.flush()


async def delete_remote_actor(session: AsyncSession, iri: str) -> bool:
    """Remove a remote actor and (by cascade) its keys; True if there was one."""
    await session.execute(
        delete(ActorKey).where(
            ActorKey.actor_id.in_(
                select(Actor.id).where(Actor.iri == iri, Actor.kind == ActorKind.REMOTE)
            )
        )
    )
    result = await session.execute(
        delete(Actor).where(Actor.iri == iri, Actor.kind == ActorKind.REMOTE)
    )
    return bool(getattr(result, "rowcount", 0))
