"""The one table routing a verified activity to its handler.

Keys are ``(activity type, object kind)``. The kind is the embedded object's
type (``"Follow"``, ``"Note"``, ``"Person"``), ``None`` when the object is an
IRI, or :data:`SELF` when the object is the activity's own actor (``Delete``
or ``Update`` of an account). ``(type, ANY)`` catches the rest of a type.
Every route from an inbound activity to code is in :data:`DISPATCH`; a pair
not in it is acknowledged and logged (Mastodon ignores unknown types too).

``keep_raw`` routes store the received JSON in the inbox log: the content
stage (Create, Update, Delete, Like, Announce) builds on those rows.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from node.actions import follows, moderation, remote_actors
from node.actions.incoming import Handler, Incoming, Outcome
from protocol.objects import Actor
from protocol.vocab import ActivityType as A
from protocol.vocab import ActorType

if TYPE_CHECKING:
    from collections.abc import Mapping

    from protocol.objects import Activity

__all__ = ["ANY", "DISPATCH", "SELF", "Route", "object_kind", "route_for"]

logger = logging.getLogger(__name__)

ANY: Final = "*"
SELF: Final = "(actor itself)"


@dataclass(frozen=True, slots=True)
class Route:
    """A handler, and whether the activity's JSON is kept in the inbox log."""

    handler: Handler
    keep_raw: bool = False


async def keep(incoming: Incoming) -> Outcome:
    """Stored raw in the inbox log; the content stage acts on it."""
    logger.debug("kept %s %s", incoming.activity.type, incoming.activity.id)
    return Outcome.KEPT


async def ignore(incoming: Incoming) -> Outcome:
    """Acknowledged, logged, nothing else (AP §7: unknown activities are not an error)."""
    activity = incoming.activity
    logger.info("ignored %s %s from %s", activity.type, activity.id, activity.actor)
    return Outcome.IGNORED


_KEEP: Final = Route(keep, keep_raw=True)
_ACTORS: Final = tuple(t.value for t in ActorType)

DISPATCH: Final[Mapping[tuple[A, str | None], Route]] = {
    # Follows (actions/follows.py).
    (A.FOLLOW, None): Route(follows.receive_follow),
    **{(A.FOLLOW, kind): Route(follows.receive_follow) for kind in _ACTORS},
    (A.ACCEPT, A.FOLLOW): Route(follows.receive_accept),
    (A.ACCEPT, None): Route(follows.receive_accept),
    (A.REJECT, A.FOLLOW): Route(follows.receive_reject),
    (A.REJECT, None): Route(follows.receive_reject),
    (A.UNDO, A.FOLLOW): Route(follows.receive_undo_follow),
    # An Undo naming only an IRI: a follow if we know it, else kept (Undo of a Like…).
    (A.UNDO, None): Route(follows.receive_undo_follow, keep_raw=True),
    # The actor itself (actions/remote_actors.py).
    (A.DELETE, SELF): Route(remote_actors.receive_actor_delete),
    (A.UPDATE, SELF): Route(remote_actors.receive_actor_update),
    # Moderation (actions/moderation.py).
    (A.FLAG, ANY): Route(moderation.receive_flag),
    (A.BLOCK, None): Route(moderation.receive_block),
    **{(A.BLOCK, kind): Route(moderation.receive_block) for kind in _ACTORS},
    (A.UNDO, A.BLOCK): Route(moderation.receive_unblock),
    # Content: kept raw for the content stage.
    (A.CREATE, ANY): _KEEP,
    (A.UPDATE, ANY): _KEEP,
    (A.DELETE, ANY): _KEEP,
    (A.LIKE, ANY): _KEEP,
    (A.ANNOUNCE, ANY): _KEEP,
    (A.UNDO, A.LIKE): _KEEP,
    (A.UNDO, A.ANNOUNCE): _KEEP,
}

_IGNORE: Final = Route(ignore)


def object_kind(activity: Activity) -> str | None:
    """The second half of the dispatch key (see the module docstring)."""
    obj = activity.object
    if obj is None:
        return None
    if isinstance(obj, str):
        return SELF if obj == activity.actor else None
    if isinstance(obj, Actor) and obj.id == activity.actor:
        return SELF
    return obj.type.value


def route_for(activity: Activity) -> Route:
    """The route for ``activity``: its exact pair, else its type's ``ANY``, else ignore."""
    kind = object_kind(activity)
    return DISPATCH.get((activity.type, kind)) or DISPATCH.get((activity.type, ANY)) or _IGNORE
