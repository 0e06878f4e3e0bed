"""Remote actors changing themselves: ``Update`` of their profile, ``Delete`` of the account.

The inbox routes here only when the activity's object *is* its actor (the
signer), so an actor can update or delete itself and nobody else.
"""

from __future__ import annotations

import logging

from node.actions.incoming import Incoming, Outcome
from node.remote.actors import save_actor
from node.store import follows, moderation, remote_actors
from protocol.objects import Actor as APActor

__all__ = ["receive_actor_delete", "receive_actor_update"]

logger = logging.getLogger(__name__)


async def receive_actor_delete(incoming: Incoming) -> Outcome:
    """The account is gone: forget it, its keys, its follows and its blocks."""
    session, gone = incoming.session, incoming.activity.actor
    await follows.delete_follows_of(session, gone)
    await moderation.remove_blocks_by(session, gone)
    removed = await remote_actors.delete_remote_actor(session, gone)
    logger.info("remote actor %s deleted itself (%s)", gone, "removed" if removed else "unknown")
    return Outcome.DONE if removed else Outcome.IGNORED


async def receive_actor_update(incoming: Incoming) -> Outcome:
    """The actor sent its new profile (and keys, after a rotation): refresh the cache."""
    updated = incoming.activity.object
    if not isinstance(updated, APActor) or updated.id != incoming.activity.actor:
        return Outcome.IGNORED
    if await remote_actors.get_remote_actor(incoming.session, updated.id) is None:
        return Outcome.IGNORED  # never fetched: nothing cached to refresh
    await save_actor(incoming.session, updated, incoming.now)
    return Outcome.DONE
