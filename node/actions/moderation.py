"""Reports and blocks received from elsewhere.

A ``Flag`` is kept for the co-op's moderators (Mastodon sends it from its
instance actor, ``object`` = the reported actor and posts, ``content`` = the
comment; anchors.md §4.6). A ``Block`` of one of our actors is recorded so
nothing of that actor's is delivered to the blocker any more, and it ends the
follows between the two, as Mastodon does when it blocks.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from node.actions.incoming import Incoming, Outcome
from node.store import actors, follows, moderation
from node.store.models import Block, Report
from protocol.objects import Activity

if TYPE_CHECKING:
    from protocol.objects import Ref

__all__ = ["receive_block", "receive_flag", "receive_unblock"]


async def receive_flag(incoming: Incoming) -> Outcome:
    """Keep a report: who sent it, what it names, and the comment."""
    activity = incoming.activity
    if activity.id is None:
        return Outcome.IGNORED
    named = [iri for iri in (_iri(ref) for ref in activity.objects) if iri is not None]
    report = Report(
        reporter_iri=activity.actor,
        activity_iri=activity.id,
        object_iris=json.dumps(named),
        # Lemmy puts the reason in summary, Mastodon in content.
        content=activity.content or activity.summary or "",
        received=incoming.now,
        resolved=False,
    )
    await moderation.add_report(incoming.session, report)
    return Outcome.DONE


async def receive_block(incoming: Incoming) -> Outcome:
    """A remote actor blocked one of ours: record it and end their follows."""
    session, activity = incoming.session, incoming.activity
    blocked = _iri(activity.object)
    local = None if blocked is None else await actors.get_actor_by_iri(session, blocked)
    if local is None or not local.is_local or activity.id is None:
        return Outcome.IGNORED
    if await moderation.get_block(session, activity.actor, local.iri) is None:
        block = Block(
            blocker_iri=activity.actor,
            blocked_iri=local.iri,
            activity_iri=activity.id,
            created=incoming.now,
        )
        await moderation.add_block(session, block)
    await follows.delete_follows_between(session, activity.actor, local.iri)
    return Outcome.DONE


async def receive_unblock(incoming: Incoming) -> Outcome:
    """Undo(Block): deliveries to the former blocker may resume."""
    activity = incoming.activity
    block = activity.object
    if not isinstance(block, Activity) or block.actor != activity.actor:
        return Outcome.IGNORED
    blocked = _iri(block.object)
    if blocked is None:
        return Outcome.IGNORED
    await moderation.remove_block(incoming.session, activity.actor, blocked)
    return Outcome.DONE


def _iri(ref: Ref | None) -> str | None:
    if ref is None or isinstance(ref, str):
        return ref
    return ref.id
