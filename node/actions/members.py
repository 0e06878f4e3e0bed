"""Adding members: a login (username, Argon2 hash, role) and the Person actor they act as."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from node.actions.local_actors import build_local_actor
from node.actions.passwords import check_password_rules, hash_password
from node.config import HANDLE_RE
from node.errors import AlreadyExists, InvalidInput
from node.iris import member_iris
from node.store import actors, members
from node.store.models import ActorKind, Member, MemberRole

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy.ext.asyncio import AsyncSession

    from node.config import Settings

__all__ = ["NewMember", "add_member", "check_new_member"]


@dataclass(frozen=True, slots=True)
class NewMember:
    """What it takes to add a member. ``display_name`` defaults to the username."""

    username: str
    password: str = field(repr=False)
    role: MemberRole = MemberRole.MEMBER
    display_name: str = ""


def check_new_member(new: NewMember) -> list[str]:
    """Every reason ``new`` cannot be added, without touching the database."""
    problems = []
    if not HANDLE_RE.fullmatch(new.username):
        problems.append("username must be 1-30 characters of a-z, 0-9 and _")
    if len(new.display_name) > 100:
        problems.append("display name must be at most 100 characters")
    password_problem = check_password_rules(new.password)
    if password_problem:
        problems.append(password_problem)
    return problems


async def add_member(
    session: AsyncSession, settings: Settings, new: NewMember, now: datetime
) -> Member:
    """Create the member and its Person actor in ``session``'s transaction."""
    problems = check_new_member(new)
    if problems:
        raise InvalidInput("; ".join(problems))
    if await actors.get_local_actor_by_handle(session, new.username) is not None:
        raise AlreadyExists(f"the name {new.username!r} is already taken on this node")
    display_name = new.display_name or new.username
    actor, password_hash = await asyncio.gather(
        asyncio.to_thread(
            build_local_actor,
            iris=member_iris(settings.base_url, new.username),
            kind=ActorKind.MEMBER,
            handle=new.username,
            domain=settings.domain,
            name=display_name,
            now=now,
        ),
        asyncio.to_thread(hash_password, new.password),
    )
    await actors.add_actor(session, actor)
    member = Member(
        username=new.username,
        display_name=display_name,
        role=new.role,
        password_hash=password_hash,
        actor=actor,
        created=now,
    )
    return await members.add_member(session, member)
