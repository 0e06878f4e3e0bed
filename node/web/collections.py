"""An actor's collections: outbox, followers, following (paged) and featured (inline).

``GET <actor>/followers`` answers the ``OrderedCollection`` with ``first`` and
``last``; ``?page=N`` answers that page (``protocol.collections`` does the
arithmetic). Pages list IRIs, newest first, as Mastodon's do.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from node.errors import NotFound
from node.store import actors, follows
from node.web.responses import ActivityResponse
from node.web.state import app_state
from protocol.collections import (
    DEFAULT_PAGE_SIZE,
    collection_page,
    inline_collection,
    page_window,
    paged_collection,
    read_page,
)
from protocol.serialize import to_json

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from sqlalchemy.ext.asyncio import AsyncSession
    from starlette.requests import Request
    from starlette.responses import Response

    from node.store.models import Actor

    Count = Callable[[AsyncSession, str], Awaitable[int]]
    Page = Callable[[AsyncSession, str, int, int], Awaitable[list[str]]]

__all__ = ["featured", "followers", "following", "outbox"]


async def followers(request: Request) -> Response:
    """``GET <actor>/followers``: accepted followers."""
    return await _paged(request, follows.count_followers, follows.followers_page)


async def following(request: Request) -> Response:
    """``GET <actor>/following``: the actors followed (accepted)."""
    return await _paged(request, follows.count_following, follows.following_page)


async def outbox(request: Request) -> Response:
    """``GET <actor>/outbox``: empty until the content stage publishes into it."""
    return await _paged(request, _nothing, _no_items)


async def featured(request: Request) -> Response:
    """``GET <actor>/featured``: pinned objects, inline (Mastodon reads it whole)."""
    async with app_state(request).sessions() as session:
        await _local_actor(request, session)
    collection_id = app_state(request).settings.base_url + request.url.path
    return ActivityResponse(to_json(inline_collection(collection_id, ())))


async def _paged(request: Request, count: Count, page: Page) -> Response:
    collection_id = app_state(request).settings.base_url + request.url.path
    raw_page = request.query_params.get("page")
    async with app_state(request).sessions() as session:
        actor = await _local_actor(request, session)
        total = await count(session, actor.iri)
        if raw_page is None:
            return ActivityResponse(to_json(paged_collection(collection_id, total)))
        number = read_page(raw_page, total, DEFAULT_PAGE_SIZE)
        if number is None:
            raise NotFound(f"no page {raw_page[:20]!r} in this collection")
        offset, limit = page_window(number, DEFAULT_PAGE_SIZE)
        items = await page(session, actor.iri, offset, limit)
    return ActivityResponse(to_json(collection_page(collection_id, number, items, total)))


async def _local_actor(request: Request, session: AsyncSession) -> Actor:
    """The local actor whose collection the path names (``<actor path>/<collection>``)."""
    actor_path = request.url.path.rsplit("/", 1)[0]
    actor = await actors.get_actor_by_iri(
        session, app_state(request).settings.base_url + actor_path
    )
    if actor is None or not actor.is_local:
        raise NotFound("no such actor")
    return actor


async def _nothing(_session: AsyncSession, _actor: str) -> int:
    return 0


async def _no_items(_session: AsyncSession, _actor: str, _offset: int, _limit: int) -> list[str]:
    return []
