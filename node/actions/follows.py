"""Follows, both ways: remote actors following ours, and ours following remote actors.

ActivityPub §7.2/§7.5: a ``Follow`` waits for ``Accept`` or ``Reject``;
``Undo(Follow)`` ends it. Every activity we answer with is enqueued for
delivery in the caller's transaction (the transactional outbox), so a follow
is never stored without its Accept going out, nor the other way round.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from node.actions.incoming import Incoming, Outcome, new_activity_iri
from node.errors import InvalidInput, NotFound
from node.outbound.queue import enqueue
from node.remote.actors import save_actor
from node.store import actors, follows
from node.store.models import Follow, FollowState
from node.store.remote_actors import get_remote_actor
from protocol.objects import Activity
from protocol.objects import Actor as APActor
from protocol.serialize import to_json
from protocol.vocab import ActivityType

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy.ext.asyncio import AsyncSession

    from node.remote.actors import RemoteActors
    from node.store.models import Actor

__all__ = [
    "accept_follower",
    "follow",
    "receive_accept",
    "receive_follow",
    "receive_reject",
    "receive_undo_follow",
    "reject_follower",
    "remove_follower",
    "unfollow",
]

logger = logging.getLogger(__name__)


# -- what remote actors send us ------------------------------------------------------------


async def receive_follow(incoming: Incoming) -> Outcome:
    """A remote actor follows one of ours: accepted at once, or held for approval."""
    session, activity = incoming.session, incoming.activity
    target = _iri_of(activity.object)
    local = None if target is None else await actors.get_actor_by_iri(session, target)
    follower = await get_remote_actor(session, activity.actor)
    if local is None or not local.is_local or follower is None or activity.id is None:
        return Outcome.IGNORED
    follow = await follows.get_follow(session, follower.iri, local.iri)
    if follow is None:
        follow = Follow(
            follower_iri=follower.iri,
            followed_iri=local.iri,
            state=FollowState.PENDING,
            activity_iri=activity.id,
            created=incoming.now,
            updated=incoming.now,
        )
        await follows.add_follow(session, follow)
    else:  # a repeated Follow: answer again (Mastodon re-sends Accept), keep the newest id
        follow.activity_iri = activity.id
        follow.updated = incoming.now
    if follow.state is FollowState.ACCEPTED or not local.manually_approves_followers:
        follow.state = FollowState.ACCEPTED
        await _answer(session, ActivityType.ACCEPT, local, follow, follower, incoming.now)
    else:
        follow.state = FollowState.PENDING
    await session.flush()
    return Outcome.DONE


async def receive_accept(incoming: Incoming) -> Outcome:
    """The actor we followed accepted: the follow is on."""
    return await _answered(incoming, FollowState.ACCEPTED)


async def receive_reject(incoming: Incoming) -> Outcome:
    """The actor we followed refused, or removed us as a follower."""
    return await _answered(incoming, FollowState.REJECTED)


async def receive_undo_follow(incoming: Incoming) -> Outcome:
    """A remote follower unfollowed one of ours."""
    session, activity = incoming.session, incoming.activity
    follow = await _follow_named(session, activity.object, follower=activity.actor)
    if follow is None or follow.follower_iri != activity.actor:
        return Outcome.IGNORED
    await follows.delete_follow(session, follow)
    return Outcome.DONE


async def _answered(incoming: Incoming, state: FollowState) -> Outcome:
    session, activity = incoming.session, incoming.activity
    obj = activity.object
    follower = obj.actor if isinstance(obj, Activity) else None
    follow = await _follow_named(session, obj, follower=follower, followed=activity.actor)
    # Only the followed actor answers a follow (the signature proved who that is).
    if follow is None or follow.followed_iri != activity.actor:
        return Outcome.IGNORED
    follow.state = state
    follow.updated = incoming.now
    await session.flush()
    return Outcome.DONE


async def _follow_named(
    session: AsyncSession,
    obj: object,
    *,
    follower: str | None = None,
    followed: str | None = None,
) -> Follow | None:
    """The follow an Accept/Reject/Undo names: by the Follow's id, else by its two actors."""
    follow_id = obj if isinstance(obj, str) else obj.id if isinstance(obj, Activity) else None
    if follow_id is not None:
        found = await follows.get_follow_by_activity(session, follow_id)
        if found is not None:
            return found
    if isinstance(obj, Activity) and obj.type is ActivityType.FOLLOW:
        target = _iri_of(obj.object) or followed
        who = obj.actor or follower
        if target is not None and who is not None:
            return await follows.get_follow(session, who, target)
    return None


# -- what our members and the co-op do -----------------------------------------------------


async def follow(
    session: AsyncSession, remote: RemoteActors, local: Actor, handle: str, now: datetime
) -> Follow:
    """``local`` follows the actor at ``handle`` (``@name@host``); pending until Accept arrives.

    The WebFinger lookup and actor fetch happen before anything is written,
    so the caller's transaction holds no write lock while waiting on them.
    """
    fetched = await remote.fetcher.lookup(handle)
    if remote.is_local(fetched.id):
        raise InvalidInput(f"{handle} is on this node; local actors need no federation")
    target = await save_actor(session, fetched, now)
    existing = await follows.get_follow(session, local.iri, target.iri)
    if existing is not None and existing.state is not FollowState.REJECTED:
        return existing
    activity_iri = new_activity_iri(local.iri, "follows")
    if existing is None:
        existing = Follow(
            follower_iri=local.iri,
            followed_iri=target.iri,
            state=FollowState.PENDING,
            activity_iri=activity_iri,
            created=now,
            updated=now,
        )
        await follows.add_follow(session, existing)
    else:  # refused before: ask again, under a new Follow id
        existing.state = FollowState.PENDING
        existing.activity_iri = activity_iri
        existing.updated = now
    document = to_json(_follow_activity(existing))
    await enqueue(session, document, local.iri, [_inbox(target)], now=now)
    logger.info("%s follows %s (pending)", local.iri, target.iri)
    return existing


async def unfollow(session: AsyncSession, local: Actor, target_iri: str, now: datetime) -> None:
    """``local`` stops following ``target_iri``: Undo(Follow) is sent and the follow removed."""
    existing = await follows.get_follow(session, local.iri, target_iri)
    if existing is None:
        raise NotFound(f"{local.iri} does not follow {target_iri}")
    target = await get_remote_actor(session, target_iri)
    if target is not None:
        undo = Activity(
            type=ActivityType.UNDO,
            actor=local.iri,
            id=new_activity_iri(local.iri, "undo"),
            objects=(_follow_activity(existing),),
            to=(target_iri,),
        )
        await enqueue(session, to_json(undo), local.iri, [_inbox(target)], now=now)
    await follows.delete_follow(session, existing)
    logger.info("%s unfollowed %s at %s", local.iri, target_iri, now.isoformat())


async def accept_follower(
    session: AsyncSession, local: Actor, follower_iri: str, now: datetime
) -> Follow:
    """Approve a pending follower of ``local`` (manually approving actors)."""
    follow, follower = await _follower(session, local, follower_iri)
    follow.state, follow.updated = FollowState.ACCEPTED, now
    await _answer(session, ActivityType.ACCEPT, local, follow, follower, now)
    return follow


async def reject_follower(
    session: AsyncSession, local: Actor, follower_iri: str, now: datetime
) -> Follow:
    """Refuse a pending follower, or remove an accepted one: Reject(Follow) is sent."""
    follow, follower = await _follower(session, local, follower_iri)
    follow.state, follow.updated = FollowState.REJECTED, now
    await _answer(session, ActivityType.REJECT, local, follow, follower, now)
    return follow


remove_follower = reject_follower  # Mastodon removes a follower with Reject(Follow) too


async def _follower(session: AsyncSession, local: Actor, follower_iri: str) -> tuple[Follow, Actor]:
    follow = await follows.get_follow(session, follower_iri, local.iri)
    follower = await get_remote_actor(session, follower_iri)
    if follow is None or follower is None:
        raise NotFound(f"{follower_iri} does not follow {local.iri}")
    return follow, follower


async def _answer(
    session: AsyncSession,
    kind: ActivityType,
    local: Actor,
    follow: Follow,
    follower: Actor,
    now: datetime,
) -> None:
    """Enqueue Accept/Reject of ``follow`` to the follower's (shared) inbox."""
    answer = Activity(
        type=kind,
        actor=local.iri,
        id=new_activity_iri(local.iri, f"{kind.value.lower()}s"),
        objects=(_follow_activity(follow),),
        to=(follow.follower_iri,),
    )
    await enqueue(session, to_json(answer), local.iri, [_inbox(follower)], now=now)


def _follow_activity(follow: Follow) -> Activity:
    """The Follow as it was sent: Accept, Reject and Undo embed it (Mastodon does)."""
    return Activity(
        type=ActivityType.FOLLOW,
        actor=follow.follower_iri,
        id=follow.activity_iri,
        objects=(follow.followed_iri,),
        to=(follow.followed_iri,),
    )


def _inbox(actor: Actor) -> str:
    return actor.shared_inbox or actor.inbox


def _iri_of(obj: object) -> str | None:
    """An ``object`` given as an IRI, or an embedded actor's id."""
    if isinstance(obj, str):
        return obj
    if isinstance(obj, APActor):
        return obj.id
    return None
