"""Inboxes: per actor (``/coop/inbox``, ``/members/{u}/inbox``, ``/actor/inbox``) and shared.

Each POST is read under Mastodon's limits (1 MB, JSON media types), verified
(:mod:`node.inbound.verify`), then taken in by :mod:`node.inbound.receive`
inside one transaction; 202 is answered only once that transaction has
committed. A redelivery is answered 202 too and changes nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Final

from starlette.exceptions import HTTPException
from starlette.responses import Response

from node.errors import NotFound
from node.inbound.receive import receive
from node.inbound.verify import verify_request
from node.store import actors
from node.store.db import transaction
from node.web.state import app_state
from protocol.http import HttpRequest
from protocol.safety import MAX_ACTIVITY_BYTES, check_size

if TYPE_CHECKING:
    from starlette.requests import Request

    from node.web.state import AppState

__all__ = ["INBOX_MEDIA_TYPES", "actor_inbox", "read_body", "shared_inbox"]

# ActivityPub §7 names the first two; plain JSON is what some servers send.
INBOX_MEDIA_TYPES: Final = frozenset(
    {"application/activity+json", "application/ld+json", "application/json"}
)


async def shared_inbox(request: Request) -> Response:
    """``POST /inbox``: the shared inbox (AP §7.1.3), for activities to many of our actors."""
    return await _take(request, app_state(request))


async def actor_inbox(request: Request) -> Response:
    """``POST <actor>/inbox``: one actor's inbox; 404 when there is no such local actor."""
    state = app_state(request)
    iri = state.settings.base_url + request.url.path.removesuffix("/inbox")
    async with state.sessions() as session:
        actor = await actors.get_actor_by_iri(session, iri)
    if actor is None or not actor.is_local:
        raise NotFound("no such actor")
    return await _take(request, state)


async def _take(request: Request, state: AppState) -> Response:
    _check_media_type(request)
    body = await read_body(request, MAX_ACTIVITY_BYTES)
    signed_url = state.settings.base_url + _target(request)
    http = HttpRequest.build("POST", signed_url, request.headers.items(), body)
    now = datetime.now(UTC)
    signed = await verify_request(state.remote, http, now)
    if signed is not None:
        async with transaction(state.sessions) as session:
            await receive(session, signed.activity, body, now)
    return Response(status_code=202)


def _check_media_type(request: Request) -> None:
    essence = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if essence not in INBOX_MEDIA_TYPES:
        raise HTTPException(415, "send application/activity+json or application/ld+json")


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refused (413) past ``limit`` by its length header or while reading."""
    length = request.headers.get("content-length", "")
    if length.isdigit():
        check_size("request body", int(length), limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        check_size("request body", size, limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _target(request: Request) -> str:
    """Path and query exactly as sent: what ``(request-target)`` and ``@target-uri`` signed."""
    path = request.scope.get("raw_path") or request.url.path.encode("utf-8")
    query = request.scope.get("query_string", b"")
    target = path.decode("latin-1")
    return f"{target}?{query.decode('latin-1')}" if query else target
