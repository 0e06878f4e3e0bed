"""What the inbox does with each activity it accepts: one dispatch table, every route.

Remote actors are served by a real HTTP server on loopback; the node fetches
their keys on first contact. Each test reads back what the node stored.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
from fediverse import FakeServer, post_signed, rows, rsa_key, stored
from sqlalchemy import select, update

from node.inbound.dispatch import ANY, DISPATCH, SELF, object_kind, route_for
from node.store.db import create_engine, create_sessions
from node.store.models import (
    Actor,
    ActorKey,
    Block,
    Delivery,
    Follow,
    FollowState,
    InboxLog,
    OutgoingActivity,
    Report,
)
from protocol.objects import Activity
from protocol.vocab import ActivityType

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    import httpx

    from node.config import Settings

BASE = "http://127.0.0.1:8000"
COOP = f"{BASE}/coop"


@pytest.fixture
async def remote() -> AsyncIterator[FakeServer]:
    server = FakeServer()
    await server.start()
    yield server
    await server.stop()


async def execute(settings: Settings, statement: Any) -> None:
    engine = create_engine(settings)
    try:
        async with engine.begin() as connection:
            await connection.execute(statement)
    finally:
        await engine.dispose()


async def remote_actor(settings: Settings, iri: str) -> Actor | None:
    engine = create_engine(settings)
    try:
        async with create_sessions(engine)() as session:
            return await session.scalar(select(Actor).where(Actor.iri == iri))
    finally:
        await engine.dispose()


# -- the table itself ------------------------------------------------------------------------


def test_every_route_names_a_handler_and_unknown_pairs_are_ignored() -> None:
    assert all(callable(route.handler) for route in DISPATCH.values())
    listen = Activity(type=ActivityType.LISTEN, actor="https://a.example/u", objects=("x",))
    assert route_for(listen).handler.__name__ == "ignore"


def test_object_kind_distinguishes_self_iri_and_embedded() -> None:
    actor = "https://a.example/u"
    assert object_kind(Activity(ActivityType.DELETE, actor, objects=(actor,))) == SELF
    assert object_kind(Activity(ActivityType.DELETE, actor, objects=(f"{actor}/n",))) is None
    follow = Activity(ActivityType.FOLLOW, actor, objects=("https://b.example/x",))
    assert object_kind(Activity(ActivityType.UNDO, actor, objects=(follow,))) == "Follow"
    assert (ActivityType.CREATE, ANY) in DISPATCH


# -- follows ---------------------------------------------------------------------------------


async def test_follow_is_accepted_and_the_accept_is_enqueued(
    client: httpx.AsyncClient, settings: Settings, remote: FakeServer
) -> None:
    # Given Alice, never seen before, follows the co-op
    alice = remote.actor("alice")
    follow = alice.activity("Follow", COOP, "f1")

    response = await post_signed(client, "/coop/inbox", follow, alice.signing_key)

    # Then her key was fetched and cached, the follow is accepted…
    assert response.status_code == 202
    assert remote.fetches_of(alice) == 1
    cached = await remote_actor(settings, alice.iri)
    assert cached is not None
    assert cached.shared_inbox == f"{remote.base}/inbox"
    [row] = await rows(settings, Follow)
    assert (row.follower_iri, row.followed_iri, row.state) == (
        alice.iri,
        COOP,
        FollowState.ACCEPTED,
    )
    assert row.activity_iri == follow["id"]
    # …and an Accept embedding her Follow is queued for her shared inbox
    [outgoing] = await rows(settings, OutgoingActivity)
    accept = json.loads(outgoing.body)
    assert (accept["type"], accept["actor"]) == ("Accept", COOP)
    assert accept["object"]["id"] == follow["id"]
    assert accept["object"]["actor"] == alice.iri
    [delivery] = await rows(settings, Delivery)
    assert delivery.inbox == f"{remote.base}/inbox"

    # And the followers collection lists her
    page = (await client.get("/coop/followers?page=1")).json()
    assert page["orderedItems"] == [alice.iri]


async def test_locked_actor_holds_the_follow_as_pending(
    client: httpx.AsyncClient, settings: Settings, remote: FakeServer
) -> None:
    await execute(
        settings, update(Actor).where(Actor.iri == COOP).values(manually_approves_followers=True)
    )
    alice = remote.actor("alice")

    response = await post_signed(
        client, "/inbox", alice.activity("Follow", COOP, "f1"), alice.signing_key
    )

    assert response.status_code == 202
    [row] = await rows(settings, Follow)
    assert row.state is FollowState.PENDING
    assert await rows(settings, OutgoingActivity) == []
    assert (await client.get("/coop/followers")).json()["totalItems"] == 0


async def test_undo_follow_removes_the_follower(
    client: httpx.AsyncClient, settings: Settings, remote: FakeServer
) -> None:
    alice = remote.actor("alice")
    follow = alice.activity("Follow", COOP, "f1")
    assert (await post_signed(client, "/inbox", follow, alice.signing_key)).status_code == 202

    undo = alice.activity("Undo", follow, "u1")
    response = await post_signed(client, "/inbox", undo, alice.signing_key)

    assert response.status_code == 202
    assert await rows(settings, Follow) == []
    assert (await client.get("/coop/followers")).json()["totalItems"] == 0


async def test_undo_of_someone_elses_follow_changes_nothing(
    client: httpx.AsyncClient, settings: Settings, remote: FakeServer
) -> None:
    alice, bob = remote.actor("alice"), remote.actor("bob")
    follow = alice.activity("Follow", COOP, "f1")
    assert (await post_signed(client, "/inbox", follow, alice.signing_key)).status_code == 202

    # Bob names Alice's follow by its id in his own Undo
    undo = bob.activity("Undo", follow["id"], "u1")
    assert (await post_signed(client, "/inbox", undo, bob.signing_key)).status_code == 202

    assert len(await rows(settings, Follow)) == 1


async def test_follow_of_an_unknown_actor_is_acknowledged_and_ignored(
    client: httpx.AsyncClient, settings: Settings, remote: FakeServer
) -> None:
    alice = remote.actor("alice")
    follow = alice.activity("Follow", f"{BASE}/members/nobody", "f1")

    response = await post_signed(client, "/inbox", follow, alice.signing_key)

    assert response.status_code == 202
    assert await rows(settings, Follow) == []
    [logged] = await rows(settings, InboxLog)
    assert logged.activity_iri == follow["id"]


# -- the remote actor itself -----------------------------------------------------------------


async def test_rotated_key_is_refetched_once_and_accepted(
    client: httpx.AsyncClient, settings: Settings, remote: FakeServer
) -> None:
    # Given Alice's first key is cached
    alice = remote.actor("alice")
    first = alice.activity("Follow", COOP, "f1")
    assert (await post_signed(client, "/inbox", first, alice.signing_key)).status_code == 202

    # When she rotates to a new key under the same key id and signs with it
    alice.rotate(rsa_key("alice-rotated"))
    like = alice.activity("Like", f"{BASE}/coop", "l1")
    response = await post_signed(client, "/inbox", like, alice.signing_key)

    # Then the node refetched her once and took the activity
    assert response.status_code == 202
    assert remote.fetches_of(alice) == 2
    keys = [key for key in await rows(settings, ActorKey) if key.key_id == alice.key_id]
    assert [key.public_pem for key in keys] == [alice.document()["publicKey"]["publicKeyPem"]]


async def test_delete_of_the_actor_removes_it_its_keys_and_follows(
    client: httpx.AsyncClient, settings: Settings, remote: FakeServer
) -> None:
    alice = remote.actor("alice")
    follow = alice.activity("Follow", COOP, "f1")
    assert (await post_signed(client, "/inbox", follow, alice.signing_key)).status_code == 202
    keys_before = (await stored(settings))["keys"]

    # When Alice deletes her account (Mastodon: Delete{object: actor}, actor then 410)
    remote.gone.add("/users/alice")
    delete = alice.activity(
        "Delete", alice.iri, "d1", to=["https://www.w3.org/ns/activitystreams#Public"]
    )
    response = await post_signed(client, "/inbox", delete, alice.signing_key)

    assert response.status_code == 202
    assert await remote_actor(settings, alice.iri) is None
    assert await rows(settings, Follow) == []
    assert (await stored(settings))["keys"] == keys_before - 1


async def test_delete_of_an_actor_we_never_knew_is_dropped_with_202(
    client: httpx.AsyncClient, settings: Settings, remote: FakeServer
) -> None:
    # Given an actor whose document is already gone (410)
    ghost = remote.actor("ghost")
    remote.gone.add("/users/ghost")
    before = await stored(settings)

    delete = ghost.activity("Delete", ghost.iri, "d1")
    response = await post_signed(client, "/inbox", delete, ghost.signing_key)

    # Then it is acknowledged (no retries) and nothing is stored
    assert response.status_code == 202
    assert await stored(settings) == before


async def test_update_of_the_actor_refreshes_the_cache(
    client: httpx.AsyncClient, settings: Settings, remote: FakeServer
) -> None:
    alice = remote.actor("alice")
    follow = alice.activity("Follow", COOP, "f1")
    assert (await post_signed(client, "/inbox", follow, alice.signing_key)).status_code == 202

    profile = {**alice.document(), "name": "Alice A."}
    profile.pop("@context")
    response = await post_signed(
        client, "/inbox", alice.activity("Update", profile, "u1"), alice.signing_key
    )

    assert response.status_code == 202
    cached = await remote_actor(settings, alice.iri)
    assert cached is not None
    assert cached.name == "Alice A."


async def test_delete_of_another_actor_is_not_an_account_deletion(
    client: httpx.AsyncClient, settings: Settings, remote: FakeServer
) -> None:
    alice, mallory = remote.actor("alice"), remote.actor("mallory")
    follow = alice.activity("Follow", COOP, "f1")
    assert (await post_signed(client, "/inbox", follow, alice.signing_key)).status_code == 202

    # Mallory (same origin) sends Delete{object: Alice}: kept for the content stage, not obeyed
    delete = mallory.activity("Delete", alice.iri, "d1")
    assert (await post_signed(client, "/inbox", delete, mallory.signing_key)).status_code == 202

    assert await remote_actor(settings, alice.iri) is not None
    assert len(await rows(settings, Follow)) == 1


# -- moderation ------------------------------------------------------------------------------


async def test_flag_is_kept_for_moderators(
    client: httpx.AsyncClient, settings: Settings, remote: FakeServer
) -> None:
    alice = remote.actor("alice")
    flag = alice.activity(
        "Flag", [f"{BASE}/members/ana", f"{BASE}/notes/1"], "flag1", content="spam"
    )

    response = await post_signed(client, "/inbox", flag, alice.signing_key)

    assert response.status_code == 202
    [report] = await rows(settings, Report)
    assert report.reporter_iri == alice.iri
    assert json.loads(report.object_iris) == [f"{BASE}/members/ana", f"{BASE}/notes/1"]
    assert (report.content, report.resolved) == ("spam", False)


async def test_block_is_recorded_ends_follows_and_undo_lifts_it(
    client: httpx.AsyncClient, settings: Settings, remote: FakeServer
) -> None:
    alice = remote.actor("alice")
    follow = alice.activity("Follow", COOP, "f1")
    assert (await post_signed(client, "/inbox", follow, alice.signing_key)).status_code == 202

    block = alice.activity("Block", COOP, "b1")
    assert (await post_signed(client, "/inbox", block, alice.signing_key)).status_code == 202

    [recorded] = await rows(settings, Block)
    assert (recorded.blocker_iri, recorded.blocked_iri) == (alice.iri, COOP)
    assert await rows(settings, Follow) == []

    undo = alice.activity("Undo", block, "ub1")
    assert (await post_signed(client, "/inbox", undo, alice.signing_key)).status_code == 202
    assert await rows(settings, Block) == []


# -- content: kept raw -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "obj"),
    [
        ("Create", {"type": "Note", "id": "{actor}/notes/1", "content": "<p>hi</p>"}),
        ("Like", "http://127.0.0.1:8000/notes/1"),
        ("Announce", "https://elsewhere.example/notes/9"),
        ("Delete", "{actor}/notes/1"),
    ],
)
async def test_content_activities_are_kept_raw(
    client: httpx.AsyncClient, settings: Settings, remote: FakeServer, kind: str, obj: Any
) -> None:
    alice = remote.actor("alice")
    filled = json.loads(json.dumps(obj).replace("{actor}", alice.iri))
    activity = alice.activity(kind, filled, "a1")

    response = await post_signed(client, "/inbox", activity, alice.signing_key)

    assert response.status_code == 202
    [logged] = await rows(settings, InboxLog)
    assert logged.raw is not None
    assert json.loads(logged.raw) == activity
    assert (logged.activity_type, logged.actor_iri) == (kind, alice.iri)


async def test_unknown_activity_is_acknowledged_and_logged_without_its_body(
    client: httpx.AsyncClient, settings: Settings, remote: FakeServer
) -> None:
    alice = remote.actor("alice")
    listen = alice.activity("Listen", "https://music.example/song", "l1")

    response = await post_signed(client, "/inbox", listen, alice.signing_key)

    assert response.status_code == 202
    [logged] = await rows(settings, InboxLog)
    assert (logged.activity_type, logged.raw) == ("Listen", None)


async def test_member_inbox_takes_activities_too(
    client: httpx.AsyncClient, settings: Settings, remote: FakeServer
) -> None:
    alice = remote.actor("alice")
    ana = f"{BASE}/members/ana"
    response = await post_signed(
        client, "/members/ana/inbox", alice.activity("Follow", ana, "f1"), alice.signing_key
    )
    assert response.status_code == 202
    [row] = await rows(settings, Follow)
    assert (row.followed_iri, row.state) == (ana, FollowState.ACCEPTED)


async def test_signature_an_hour_in_the_future_is_refused(
    client: httpx.AsyncClient, settings: Settings, remote: FakeServer
) -> None:
    alice = remote.actor("alice")
    later = datetime.now(UTC) + timedelta(hours=1, minutes=5)
    response = await post_signed(
        client, "/inbox", alice.activity("Follow", COOP, "f1"), alice.signing_key, now=later
    )
    assert response.status_code == 401
    assert await rows(settings, InboxLog) == []
