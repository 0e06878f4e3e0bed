"""OrderedCollection and its pages: the arithmetic of paging, nothing else.

The node counts and fetches; this module decides what a collection and a page
say. Pages are numbered from 1 (the cursor) and live at ``<collection>?page=N``.
An empty collection still has a first (empty) page, as Mastodon's do, so a
client following ``first`` always finds a page.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from protocol.objects import Collection
from protocol.vocab import ObjectType

if TYPE_CHECKING:
    from collections.abc import Sequence

    from protocol.objects import Ref

__all__ = [
    "DEFAULT_PAGE_SIZE",
    "collection_page",
    "inline_collection",
    "page_count",
    "page_iri",
    "page_window",
    "paged_collection",
    "read_page",
]

DEFAULT_PAGE_SIZE = 20  # Mastodon's outbox and followers page size


def page_iri(collection_id: str, page: int) -> str:
    """``<collection>?page=N`` (``&page=N`` when the id already has a query)."""
    separator = "&" if "?" in collection_id else "?"
    return f"{collection_id}{separator}page={page}"


def page_count(total_items: int, page_size: int) -> int:
    """How many pages ``total_items`` fill: at least one, even when empty."""
    _check(total_items >= 0, "total_items must not be negative")
    _check(page_size >= 1, "page_size must be at least 1")
    return max(1, -(-total_items // page_size))


def page_window(page: int, page_size: int) -> tuple[int, int]:
    """``(offset, limit)`` of a page, for the node's query."""
    _check(page >= 1, "pages are numbered from 1")
    _check(page_size >= 1, "page_size must be at least 1")
    return (page - 1) * page_size, page_size


def read_page(raw: str | None, total_items: int, page_size: int) -> int | None:
    """The page a ``?page=`` query value asks for, or ``None`` when there is no such page."""
    if raw is None or not raw.isascii() or not raw.isdigit() or len(raw) > 9:
        return None
    page = int(raw)
    return page if 1 <= page <= page_count(total_items, page_size) else None


def paged_collection(
    collection_id: str, total_items: int, page_size: int = DEFAULT_PAGE_SIZE
) -> Collection:
    """The collection document itself: ``totalItems`` and links to its first and last pages."""
    return Collection(
        type=ObjectType.ORDERED_COLLECTION,
        id=collection_id,
        total_items=total_items,
        first=page_iri(collection_id, 1),
        last=page_iri(collection_id, page_count(total_items, page_size)),
    )


def collection_page(
    collection_id: str,
    page: int,
    items: Sequence[Ref],
    total_items: int,
    page_size: int = DEFAULT_PAGE_SIZE,
) -> Collection:
    """Page ``page`` holding ``items`` (newest first is the caller's ordering to choose).

    ``next``/``prev`` are set only where such a page exists. Raises
    ``ValueError`` for a page past the end or more items than fit a page.
    """
    last = page_count(total_items, page_size)
    _check(1 <= page <= last, f"page {page} is outside 1..{last}")
    _check(len(items) <= page_size, f"{len(items)} items do not fit a page of {page_size}")
    return Collection(
        type=ObjectType.ORDERED_COLLECTION_PAGE,
        id=page_iri(collection_id, page),
        total_items=total_items,
        part_of=collection_id,
        next=page_iri(collection_id, page + 1) if page < last else None,
        prev=page_iri(collection_id, page - 1) if page > 1 else None,
        start_index=page_window(page, page_size)[0],
        items=tuple(items),
    )


def inline_collection(
    collection_id: str, items: Sequence[Ref], attributed_to: Sequence[str] = ()
) -> Collection:
    """A small collection with every item inline: ``featured``, or a FEP-f228 thread.

    A thread's ``context`` collection lists the question first, then its
    answers, and is ``attributedTo`` the question's co-op.
    """
    return Collection(
        type=ObjectType.ORDERED_COLLECTION,
        id=collection_id,
        total_items=len(items),
        items=tuple(items),
        attributed_to=tuple(attributed_to),
    )


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)
