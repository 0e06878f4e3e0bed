"""Setting up a new node: the co-op's Group, the node's Application actor, the first admin."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from node.actions.local_actors import build_local_actor
from node.actions.members import NewMember, add_member
from node.errors import AlreadyExists
from node.iris import application_iris, coop_iris
from node.store import actors
from node.store.models import ActorKind, MemberRole

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy.ext.asyncio import AsyncSession

    from node.config import Settings
    from node.store.models import Member

__all__ = ["create_node"]


async def create_node(
    session: AsyncSession, settings: Settings, admin: NewMember, now: datetime
) -> Member:
    """Create the co-op, application and admin actors in one transaction; return the admin."""
    if await actors.get_local_actor(session, ActorKind.COOP) is not None:
        raise AlreadyExists("this database already holds a co-op")
    coop, application = await asyncio.gather(
        asyncio.to_thread(
            build_local_actor,
            iris=coop_iris(settings.base_url),
            kind=ActorKind.COOP,
            handle=settings.coop_handle,
            domain=settings.domain,
            name=settings.coop_name,
            now=now,
        ),
        asyncio.to_thread(
            build_local_actor,
            iris=application_iris(settings.base_url),
            kind=ActorKind.APPLICATION,
            # Mastodon names its instance actor after the domain; a dotted name
            # cannot collide with a member (usernames are [a-z0-9_]).
            handle=application_handle(settings),
            domain=settings.domain,
            name=settings.coop_name,
            now=now,
        ),
    )
    await actors.add_actor(session, coop)
    await actors.add_actor(session, application)
    first = NewMember(admin.username, admin.password, MemberRole.ADMIN, admin.display_name)
    return await add_member(session, settings, first, now)


def application_handle(settings: Settings) -> str:
    """The Application actor's preferredUsername: the node's host name."""
    return urlsplit(settings.base_url).hostname or settings.domain
