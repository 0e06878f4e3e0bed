"""Actor documents: the co-op's Group, members' Persons, the node's Application.

Served as ``application/activity+json`` with what Mastodon reads (anchors.md
§4.2). The HTML profile at the same URL (content negotiation) comes later.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from node.convert import actor_to_ap
from node.errors import NotFound
from node.iris import member_iris
from node.store import actors
from node.store.models import ActorKind
from node.web.responses import ActivityResponse
from node.web.state import app_state
from protocol.serialize import to_json

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response

    from node.web.state import AppState

__all__ = ["application_actor", "coop_actor", "member_actor"]


async def coop_actor(request: Request) -> Response:
    """``GET /coop``: the co-op's Group (FEP-1b12), with ``sc:federation`` when set."""
    state = app_state(request)
    return await _local(state, ActorKind.COOP, federation=state.settings.federation_iri)


async def application_actor(request: Request) -> Response:
    """``GET /actor``: the node's Application actor (FEP-2677), which signs fetches."""
    return await _local(app_state(request), ActorKind.APPLICATION)


async def member_actor(request: Request) -> Response:
    """``GET /members/{username}``: a member's Person."""
    state = app_state(request)
    iri = member_iris(state.settings.base_url, request.path_params["username"]).id
    async with state.sessions() as session:
        actor = await actors.get_actor_by_iri(session, iri)
        if actor is None or actor.kind is not ActorKind.MEMBER:
            raise NotFound("no such member")
        keys = await actors.current_keys(session, actor)
    return ActivityResponse(to_json(actor_to_ap(actor, keys)))


async def _local(state: AppState, kind: ActorKind, federation: str | None = None) -> Response:
    async with state.sessions() as session:
        actor = await actors.get_local_actor(session, kind)
        if actor is None:
            raise NotFound("no such actor")
        keys = await actors.current_keys(session, actor)
    return ActivityResponse(to_json(actor_to_ap(actor, keys, federation)))
