"""A verified activity, taken in: origin rules, the redelivery guard, then dispatch.

Runs inside the caller's transaction (the web handler answers 202 only after
it commits), so the inbox log row and everything the handler stores and
enqueues become durable together. A redelivered activity finds its id in the
log and changes nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final
from urllib.parse import urlsplit

from node.actions.incoming import Incoming, Outcome
from node.inbound.dispatch import route_for
from node.store.inbox import record_activity
from node.store.models import InboxLog
from protocol.errors import ParseError
from protocol.vocab import ActivityType

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy.ext.asyncio import AsyncSession

    from protocol.objects import Activity

__all__ = ["Receipt", "check_origins", "receive"]

logger = logging.getLogger(__name__)

# Activities whose objects must be the actor's own (Mastodon create.rb ``invalid_origin?``):
# one may only create, change or delete what lives on one's own server.
_OWN_OBJECTS: Final = frozenset({ActivityType.CREATE, ActivityType.UPDATE, ActivityType.DELETE})
_MAX_TYPE: Final = 32  # InboxLog type columns
_MAX_IRI: Final = 2048  # InboxLog IRI columns


@dataclass(frozen=True, slots=True)
class Receipt:
    """What became of one delivery: a new activity and its outcome, or a duplicate."""

    activity_iri: str
    duplicate: bool
    outcome: Outcome | None


def check_origins(activity: Activity) -> str:
    """Refuse ids off the actor's origin; return the activity id (which is required)."""
    if activity.id is None:
        raise ParseError("$.id", "an activity sent to an inbox needs an id")
    if len(activity.id) > _MAX_IRI or len(activity.actor) > _MAX_IRI:
        raise ParseError("$.id", f"ids longer than {_MAX_IRI} characters are not accepted")
    origin = _origin(activity.actor)
    if _origin(activity.id) != origin:
        raise ParseError("$.id", "the activity id is not on its actor's origin")
    if activity.type in _OWN_OBJECTS:
        for index, ref in enumerate(activity.objects):
            iri = ref if isinstance(ref, str) else ref.id
            if iri is not None and _origin(iri) != origin:
                where = "$.object" if len(activity.objects) == 1 else f"$.object[{index}]"
                raise ParseError(f"{where}.id", "the object is not on its actor's origin")
    return activity.id


async def receive(session: AsyncSession, activity: Activity, body: bytes, now: datetime) -> Receipt:
    """Log ``activity`` by id and run its handler, unless it was received before."""
    activity_iri = check_origins(activity)
    route = route_for(activity)
    entry = InboxLog(
        activity_iri=activity_iri,
        activity_type=activity.type.value,
        object_type=_object_type(activity),
        actor_iri=activity.actor,
        received=now,
        raw=body.decode("utf-8") if route.keep_raw else None,
    )
    if not await record_activity(session, entry):
        logger.info("redelivery of %s ignored", activity_iri)
        return Receipt(activity_iri, duplicate=True, outcome=None)
    outcome = await route.handler(Incoming(session, activity, now))
    logger.info("%s %s from %s: %s", activity.type, activity_iri, activity.actor, outcome)
    return Receipt(activity_iri, duplicate=False, outcome=outcome)


def _object_type(activity: Activity) -> str | None:
    obj = activity.object
    return None if obj is None or isinstance(obj, str) else obj.type.value[:_MAX_TYPE]


def _origin(iri: str) -> tuple[str, str]:
    parts = urlsplit(iri)
    return parts.scheme.lower(), parts.netloc.lower()
