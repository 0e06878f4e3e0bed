"""Followers, following, outbox and featured: paged OrderedCollections at the IRIs actors name."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import insert

from node.store.db import create_engine
from node.store.models import Follow, FollowState

if TYPE_CHECKING:
    import httpx

    from node.config import Settings

BASE = "http://127.0.0.1:8000"
COOP = f"{BASE}/coop"
AS_JSON = "application/activity+json"
T0 = datetime(2026, 1, 1, tzinfo=UTC)


async def add_follows(settings: Settings, rows: list[dict[str, object]]) -> None:
    engine = create_engine(settings)
    try:
        async with engine.begin() as connection:
            await connection.execute(insert(Follow), rows)
    finally:
        await engine.dispose()


def follower(n: int, state: FollowState = FollowState.ACCEPTED) -> dict[str, object]:
    moment = T0 + timedelta(minutes=n)
    return {
        "follower_iri": f"https://far.example/users/u{n}",
        "followed_iri": COOP,
        "state": state,
        "activity_iri": f"https://far.example/follows/{n}",
        "created": moment,
        "updated": moment,
    }


async def test_followers_are_paged_newest_first(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    # Given 25 accepted followers and one pending
    await add_follows(
        settings, [follower(n) for n in range(25)] + [follower(99, FollowState.PENDING)]
    )

    collection = await client.get("/coop/followers")
    assert collection.headers["content-type"] == AS_JSON
    doc = collection.json()
    assert (doc["type"], doc["id"], doc["totalItems"]) == (
        "OrderedCollection",
        f"{COOP}/followers",
        25,
    )
    assert (doc["first"], doc["last"]) == (f"{COOP}/followers?page=1", f"{COOP}/followers?page=2")

    first = (await client.get("/coop/followers?page=1")).json()
    assert first["type"] == "OrderedCollectionPage"
    assert first["partOf"] == f"{COOP}/followers"
    assert first["orderedItems"][0] == "https://far.example/users/u24"
    assert len(first["orderedItems"]) == 20
    assert first["next"] == f"{COOP}/followers?page=2"

    second = (await client.get(first["next"])).json()
    assert second["orderedItems"][-1] == "https://far.example/users/u0"
    assert "next" not in second
    assert "https://far.example/users/u99" not in first["orderedItems"] + second["orderedItems"]


@pytest.mark.parametrize("page", ["3", "0", "abc", "-1"])
async def test_pages_that_do_not_exist_are_404(
    client: httpx.AsyncClient, settings: Settings, page: str
) -> None:
    await add_follows(settings, [follower(n) for n in range(25)])
    assert (await client.get(f"/coop/followers?page={page}")).status_code == 404


async def test_following_lists_whom_the_actor_follows(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    row = follower(1) | {"follower_iri": COOP, "followed_iri": "https://far.example/users/x"}
    pending = follower(2) | {"follower_iri": COOP, "followed_iri": "https://far.example/users/y"}
    await add_follows(settings, [row, pending | {"state": FollowState.PENDING}])

    page = (await client.get("/coop/following?page=1")).json()
    assert page["orderedItems"] == ["https://far.example/users/x"]
    assert (await client.get("/coop/followers")).json()["totalItems"] == 0


@pytest.mark.parametrize("actor", ["/coop", "/members/ana", "/actor"])
async def test_every_local_actor_serves_its_collections_at_the_iris_it_names(
    client: httpx.AsyncClient, actor: str
) -> None:
    document = (await client.get(actor, headers={"Accept": AS_JSON})).json()
    for name in ("outbox", "followers", "following", "featured"):
        response = await client.get(document[name])
        assert response.status_code == 200, name
        assert response.json()["id"] == document[name]
    featured = (await client.get(document["featured"])).json()
    assert (featured["type"], featured["totalItems"]) == ("OrderedCollection", 0)
    outbox = (await client.get(f"{document['outbox']}?page=1")).json()
    assert outbox.get("orderedItems", []) == []


async def test_collections_of_unknown_members_are_404(client: httpx.AsyncClient) -> None:
    assert (await client.get("/members/nobody/followers")).status_code == 404
