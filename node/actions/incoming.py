"""What every inbox handler receives, and what it reports back.

The inbox has verified the signature and logged the activity id before a
handler runs; the handler works inside that same transaction, so whatever it
stores and enqueues commits together with the log row, or not at all.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeAlias

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy.ext.asyncio import AsyncSession

    from protocol.objects import Activity

__all__ = ["Handler", "Incoming", "Outcome", "new_activity_iri"]


class Outcome(enum.StrEnum):
    """What a handler did with an activity (logged; the sender gets 202 either way)."""

    DONE = "done"  # state changed (a follow stored, an actor removed…)
    KEPT = "kept"  # stored raw in the inbox log for a later stage (content)
    IGNORED = "ignored"  # nothing to do: not for us, unknown, or already so


@dataclass(frozen=True, slots=True)
class Incoming:
    """A verified activity inside the inbox transaction."""

    session: AsyncSession
    activity: Activity
    now: datetime


Handler: TypeAlias = Callable[[Incoming], Awaitable[Outcome]]


def new_activity_iri(actor_iri: str, kind: str) -> str:
    """A fresh id for an activity ``actor_iri`` sends: ``<actor>#<kind>/<uuid>``.

    Fragment ids on the actor, as Mastodon mints ``…/users/x#accepts/follows/1``:
    unique, on the sender's origin, and no route is needed to serve them.
    """
    return f"{actor_iri}#{kind}/{uuid.uuid4().hex}"
