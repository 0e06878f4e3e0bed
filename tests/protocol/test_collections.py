"""protocol.collections: collection documents and page arithmetic."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol.collections import (
    collection_page,
    inline_collection,
    page_count,
    page_iri,
    page_window,
    paged_collection,
    read_page,
)
from protocol.parse import parse_collection
from protocol.serialize import to_json
from protocol.vocab import ObjectType

OUTBOX = "https://coop.example/coop/outbox"


def test_page_iris_add_a_page_query() -> None:
    assert page_iri(OUTBOX, 2) == f"{OUTBOX}?page=2"
    assert page_iri(f"{OUTBOX}?only=posts", 2) == f"{OUTBOX}?only=posts&page=2"


@pytest.mark.parametrize(
    ("total", "size", "pages"), [(0, 20, 1), (1, 20, 1), (20, 20, 1), (21, 20, 2), (41, 20, 3)]
)
def test_page_count(total: int, size: int, pages: int) -> None:
    assert page_count(total, size) == pages


def test_the_collection_links_its_first_and_last_pages() -> None:
    collection = paged_collection(OUTBOX, total_items=45, page_size=20)
    assert collection.type is ObjectType.ORDERED_COLLECTION
    assert collection.total_items == 45
    assert collection.first == f"{OUTBOX}?page=1"
    assert collection.last == f"{OUTBOX}?page=3"
    assert collection.items == ()


def test_an_empty_collection_still_has_a_first_page() -> None:
    collection = paged_collection(OUTBOX, total_items=0)
    assert collection.first == collection.last == f"{OUTBOX}?page=1"
    page = collection_page(OUTBOX, 1, [], total_items=0)
    assert page.next is None
    assert page.prev is None


def test_a_middle_page_links_both_ways() -> None:
    page = collection_page(OUTBOX, 2, ["https://coop.example/n/21"], total_items=45, page_size=20)
    assert page.type is ObjectType.ORDERED_COLLECTION_PAGE
    assert page.id == f"{OUTBOX}?page=2"
    assert page.part_of == OUTBOX
    assert page.prev == f"{OUTBOX}?page=1"
    assert page.next == f"{OUTBOX}?page=3"
    assert page.start_index == 20
    assert page.items == ("https://coop.example/n/21",)


def test_the_first_and_last_pages_have_no_prev_and_no_next() -> None:
    assert collection_page(OUTBOX, 1, [], total_items=45, page_size=20).prev is None
    assert collection_page(OUTBOX, 3, [], total_items=45, page_size=20).next is None


@pytest.mark.parametrize("page", [0, 4])
def test_a_page_outside_the_collection_is_refused(page: int) -> None:
    with pytest.raises(ValueError, match="outside"):
        collection_page(OUTBOX, page, [], total_items=45, page_size=20)


def test_more_items_than_a_page_holds_are_refused() -> None:
    with pytest.raises(ValueError, match="do not fit"):
        collection_page(OUTBOX, 1, ["a", "b", "c"], total_items=45, page_size=2)


@pytest.mark.parametrize(
    ("raw", "page"),
    [
        ("1", 1),
        ("3", 3),
        ("4", None),
        ("0", None),
        ("-1", None),
        ("x", None),
        ("٣", None),
        (None, None),
    ],
)
def test_read_page_accepts_only_existing_page_numbers(raw: str | None, page: int | None) -> None:
    assert read_page(raw, total_items=45, page_size=20) == page


def test_page_window_is_offset_and_limit() -> None:
    assert page_window(1, 20) == (0, 20)
    assert page_window(3, 20) == (40, 20)
    with pytest.raises(ValueError, match="from 1"):
        page_window(0, 20)


def test_an_inline_collection_holds_its_items_for_a_thread() -> None:
    # FEP-f228: the question first, then answers; attributed to the question's co-op.
    question, answer = "https://coop.example/q/1", "https://other.example/a/7"
    thread = inline_collection(
        f"{question}/context", [question, answer], ["https://coop.example/coop"]
    )
    assert thread.items == (question, answer)
    assert thread.total_items == 2
    assert to_json(thread)["orderedItems"] == [question, answer]
    assert thread.attributed_to == ("https://coop.example/coop",)


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 300), st.integers(1, 50))
def test_following_next_visits_every_item_exactly_once(total: int, size: int) -> None:
    # Given a collection of `total` numbered items served `size` at a time
    seen: list[int] = []
    iri = paged_collection(OUTBOX, total, size).first
    # When a client follows first, then next, until there is none
    while iri is not None:
        page_number = int(str(iri).rsplit("=", 1)[1])
        offset, limit = page_window(page_number, size)
        items = [f"{OUTBOX}/{n}" for n in range(offset, min(offset + limit, total))]
        page = parse_collection(to_json(collection_page(OUTBOX, page_number, items, total, size)))
        seen += [int(str(item).rsplit("/", 1)[1]) for item in page.items]
        iri = page.next
    # Then it saw every item once, in order
    assert seen == list(range(total))
