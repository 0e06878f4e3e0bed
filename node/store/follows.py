"""Named queries for follows: who follows whom, in which state, and the collections.

Collections list accepted follows only, newest first (Mastodon's order), by
IRI; pages are ``(offset, limit)`` windows from :mod:`protocol.collections`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import delete, func, or_, select

from node.store.models import Actor, Block, Follow, FollowState

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

__all__ = [
    "add_follow",
    "count_followers",
    "count_following",
    "delete_follow",
    "delete_follows_between",
    "delete_follows_of",
    "follower_inboxes",
    "followers_page",
    "following_page",
    "get_follow",
    "get_follow_by_activity",
]


async def get_follow(session: AsyncSession, follower: str, followed: str) -> Follow | None:
    """The follow from ``follower`` to ``followed``, in any state."""
    query = select(Follow).where(Follow.follower_iri == follower, Follow.followed_iri == followed)
    return await session.scalar(query)


async def get_follow_by_activity(session: AsyncSession, activity_iri: str) -> Follow | None:
    """The follow created by the Follow activity ``activity_iri``."""
    return await session.scalar(select(Follow).where(Follow.activity_iri == activity_iri))


async def add_follow(session: AsyncSession, follow: Follow) -> Follow:
    """Insert ``follow``; flushes so the pair and activity constraints are checked now."""
    session.add(follow)
    await session.flush()
    return follow


async def delete_follow(session: AsyncSession, follow: Follow) -> None:
    """Remove one follow."""
    await session.delete(follow)
    await session.flush()


async def delete_follows_of(session: AsyncSession, actor_iri: str) -> None:
    """Remove every follow ``actor_iri`` is on either side of (the actor is gone)."""
    await session.execute(
        delete(Follow).where(
            or_(Follow.follower_iri == actor_iri, Follow.followed_iri == actor_iri)
        )
    )


async def delete_follows_between(session: AsyncSession, one: str, other: str) -> None:
    """Remove the follows between two actors, both ways (a Block ends both)."""
    await session.execute(
        delete(Follow).where(
            or_(
                (Follow.follower_iri == one) & (Follow.followed_iri == other),
                (Follow.follower_iri == other) & (Follow.followed_iri == one),
            )
        )
    )


async def count_followers(session: AsyncSession, actor_iri: str) -> int:
    """How many accepted followers ``actor_iri`` has."""
    query = select(func.count()).where(
        Follow.followed_iri == actor_iri, Follow.state == FollowState.ACCEPTED
    )
    return await session.scalar(query) or 0


async def count_following(session: AsyncSession, actor_iri: str) -> int:
    """How many actors ``actor_iri`` follows (accepted)."""
    query = select(func.count()).where(
        Follow.follower_iri == actor_iri, Follow.state == FollowState.ACCEPTED
    )
    return await session.scalar(query) or 0


async def followers_page(
    session: AsyncSession, actor_iri: str, offset: int, limit: int
) -> list[str]:
    """Accepted followers' IRIs, newest first."""
    query = (
        select(Follow.follower_iri)
        .where(Follow.followed_iri == actor_iri, Follow.state == FollowState.ACCEPTED)
        .order_by(Follow.updated.desc(), Follow.id.desc())
        .offset(offset)
        .limit(limit)
    )
    return list(await session.scalars(query))


async def following_page(
    session: AsyncSession, actor_iri: str, offset: int, limit: int
) -> list[str]:
    """IRIs of the actors ``actor_iri`` follows (accepted), newest first."""
    query = (
        select(Follow.followed_iri)
        .where(Follow.follower_iri == actor_iri, Follow.state == FollowState.ACCEPTED)
        .order_by(Follow.updated.desc(), Follow.id.desc())
        .offset(offset)
        .limit(limit)
    )
    return list(await session.scalars(query))


async def follower_inboxes(session: AsyncSession, actor_iri: str) -> list[str]:
    """Where to deliver to ``actor_iri``'s followers: each shared inbox once.

    Followers who blocked ``actor_iri`` are left out (a Block stops delivery).
    """
    blocked = select(Block.blocker_iri).where(Block.blocked_iri == actor_iri)
    inbox = func.coalesce(Actor.shared_inbox, Actor.inbox)
    query = (
        select(inbox)
        .join(Follow, Follow.follower_iri == Actor.iri)
        .where(
            Follow.followed_iri == actor_iri,
            Follow.state == FollowState.ACCEPTED,
            Follow.follower_iri.not_in(blocked),
        )
        .distinct()
        .order_by(inbox)
    )
    return list(await session.scalars(query))
