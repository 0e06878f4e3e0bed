"""Discovery: WebFinger, NodeInfo and host-meta.

Mastodon finds accounts only through WebFinger and requires it to loop back
to the actor ``id`` (anchors.md §4.1): the JRD's ``self`` link is the stored
actor IRI, the same string the actor document carries as its ``id``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from node.errors import InvalidInput, NotFound
from node.iris import application_iris, coop_iris
from node.store import actors, members
from node.web.responses import JrdResponse, JsonResponse, XrdResponse
from node.web.state import app_state
from protocol import nodeinfo as ni
from protocol.webfinger import (
    AccountResource,
    ActorResource,
    ForeignResource,
    Handle,
    ServerResource,
    actor_jrd,
    host_meta_jrd,
    host_meta_xrd,
    parse_resource,
    server_jrd,
)

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response

    from node.store.models import Actor
    from node.web.state import AppState

__all__ = ["host_meta", "host_meta_json", "nodeinfo_document", "nodeinfo_links", "webfinger"]


async def webfinger(request: Request) -> Response:
    """``GET /.well-known/webfinger?resource=…`` (RFC 7033 §4): 400 missing, 404 unknown."""
    state = app_state(request)
    resource = request.query_params.get("resource")
    if not resource:
        raise InvalidInput("the resource query parameter is required")
    base = state.settings.base_url
    match parse_resource(resource, state.settings.domain):
        case ServerResource():
            return JrdResponse(server_jrd(base, application_iris(base).id))
        case AccountResource(handle=handle):
            actor = await _by_handle(state, handle.name.lower())
        case ActorResource(url=url):
            actor = await _by_iri(state, url)
        case ForeignResource():
            raise NotFound("that resource is not on this node")
    handle = Handle(actor.handle, state.settings.domain)
    return JrdResponse(actor_jrd(handle, actor.iri, actor.url or actor.iri))


async def _by_handle(state: AppState, name: str) -> Actor:
    async with state.sessions() as session:
        actor = await actors.get_local_actor_by_handle(session, name)
    if actor is None:
        raise NotFound("no such account on this node")
    return actor


async def _by_iri(state: AppState, iri: str) -> Actor:
    async with state.sessions() as session:
        actor = await actors.get_actor_by_iri(session, iri)
    if actor is None or not actor.is_local:
        raise NotFound("no such actor on this node")
    return actor


async def nodeinfo_links(request: Request) -> Response:
    """``GET /.well-known/nodeinfo``: where the 2.1 and 2.0 documents are (and FEP-2677)."""
    base = app_state(request).settings.base_url
    return JsonResponse(ni.nodeinfo_jrd(base, application_iris(base).id))


async def nodeinfo_document(request: Request) -> Response:
    """``GET /nodeinfo/{version}`` for 2.1 and 2.0 (Mastodon reads only 2.0)."""
    version = request.path_params["version"]
    if version not in ni.VERSIONS:
        raise NotFound(f"no NodeInfo version {version}")
    state = app_state(request)
    settings = state.settings
    async with state.sessions() as session:
        users = await members.count_members(session)
    meta = ni.NodeMetadata(
        node_name=settings.coop_name,
        coop_name=settings.coop_name,
        coop_actor=coop_iris(settings.base_url).id,
        federation=settings.federation_iri,
    )
    # Activity is not tracked yet: every member counts as active.
    usage = ni.Usage(users, users, users, local_posts=0)
    document = ni.nodeinfo(
        meta, usage, software_version=state.version, open_registrations=False, version=version
    )
    return JsonResponse(document, media_type=ni.content_type(version))


async def host_meta(request: Request) -> Response:
    """``GET /.well-known/host-meta`` (RFC 6415): the WebFinger template as XRD."""
    return XrdResponse(host_meta_xrd(app_state(request).settings.base_url))


async def host_meta_json(request: Request) -> Response:
    """``GET /.well-known/host-meta.json``: the same template as JSON."""
    return JsonResponse(host_meta_jrd(app_state(request).settings.base_url))
