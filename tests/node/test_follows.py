"""Follows started here: by handle, answered by Accept/Reject, undone; and follower approval.

The remote side is a real HTTP server on loopback (WebFinger, actor
documents); Accept and Reject come back through the node's inbox.
"""

from __future__ import annotations

import asyncio
import json
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest
from fediverse import FakeServer, post_signed, rows
from sqlalchemy import update

from node.actions import follows
from node.cli import main
from node.errors import InvalidInput, NotFound
from node.iris import application_iris
from node.keyring import load_keyring
from node.remote.actors import RemoteActors
from node.remote.fetch import RemoteError, open_fetcher
from node.store import actors
from node.store.db import create_engine, create_sessions, transaction
from node.store.models import Actor, ActorKind, Delivery, Follow, FollowState, OutgoingActivity

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator
    from pathlib import Path

    import httpx

    from node.config import Settings
    from node.store.db import Sessions

BASE = "http://127.0.0.1:8000"
COOP = f"{BASE}/coop"
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@dataclass
class Node:
    sessions: Sessions
    remote: RemoteActors

    async def coop(self) -> Actor:
        async with self.sessions() as session:
            actor = await actors.get_local_actor(session, ActorKind.COOP)
        assert actor is not None
        return actor


@pytest.fixture
async def remote() -> AsyncIterator[FakeServer]:
    server = FakeServer()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def node(settings: Settings) -> AsyncIterator[Node]:
    """The template node's database and a fetcher signing as its Application actor."""
    engine = create_engine(settings)
    sessions = create_sessions(engine)
    keyring = await load_keyring(sessions)
    key = keyring.signing_key(application_iris(BASE).id)
    try:
        async with open_fetcher(settings, key) as fetcher:
            yield Node(sessions, RemoteActors(sessions, fetcher, BASE))
    finally:
        await engine.dispose()


def handle(server: FakeServer, name: str) -> str:
    return f"@{name}@{server.base.removeprefix('http://')}"


async def sent(settings: Settings) -> list[dict[str, object]]:
    return [json.loads(row.body) for row in await rows(settings, OutgoingActivity)]


async def test_follow_by_handle_sends_a_follow_and_waits(
    node: Node, settings: Settings, remote: FakeServer
) -> None:
    alice = remote.actor("alice")
    coop = await node.coop()

    async with transaction(node.sessions) as session:
        follow = await follows.follow(session, node.remote, coop, handle(remote, "alice"), NOW)

    # WebFinger, then the actor by a GET signed by our Application actor
    assert remote.gets == ["/.well-known/webfinger", "/users/alice"]
    assert f'keyId="{BASE}/actor#main-key"' in remote.get_headers[1]["signature"]
    assert (follow.followed_iri, follow.state) == (alice.iri, FollowState.PENDING)
    [activity] = await sent(settings)
    assert activity["type"] == "Follow"
    assert (activity["actor"], activity["object"], activity["id"]) == (
        COOP,
        alice.iri,
        follow.activity_iri,
    )
    [delivery] = await rows(settings, Delivery)
    assert delivery.inbox == f"{remote.base}/inbox"


async def test_following_again_changes_nothing(
    node: Node, settings: Settings, remote: FakeServer
) -> None:
    remote.actor("alice")
    coop = await node.coop()
    async with transaction(node.sessions) as session:
        first = await follows.follow(session, node.remote, coop, handle(remote, "alice"), NOW)
    async with transaction(node.sessions) as session:
        second = await follows.follow(session, node.remote, coop, handle(remote, "alice"), NOW)
    assert second.activity_iri == first.activity_iri
    assert len(await sent(settings)) == 1


async def test_accept_from_the_followed_actor_turns_the_follow_on(
    node: Node, settings: Settings, remote: FakeServer, client: httpx.AsyncClient
) -> None:
    alice = remote.actor("alice")
    coop = await node.coop()
    async with transaction(node.sessions) as session:
        follow = await follows.follow(session, node.remote, coop, handle(remote, "alice"), NOW)
    [follow_json] = await sent(settings)

    # When Alice accepts, embedding our Follow as Mastodon does
    accept = alice.activity(
        "Accept", {k: v for k, v in follow_json.items() if k != "@context"}, "a1"
    )
    response = await post_signed(client, "/coop/inbox", accept, alice.signing_key)

    assert response.status_code == 202
    [row] = await rows(settings, Follow)
    assert (row.activity_iri, row.state) == (follow.activity_iri, FollowState.ACCEPTED)
    page = (await client.get("/coop/following?page=1")).json()
    assert page["orderedItems"] == [alice.iri]


async def test_accept_by_anyone_else_is_ignored(
    node: Node, settings: Settings, remote: FakeServer, client: httpx.AsyncClient
) -> None:
    remote.actor("alice")
    mallory = remote.actor("mallory")
    coop = await node.coop()
    async with transaction(node.sessions) as session:
        follow = await follows.follow(session, node.remote, coop, handle(remote, "alice"), NOW)

    accept = mallory.activity("Accept", follow.activity_iri, "a1")
    assert (await post_signed(client, "/inbox", accept, mallory.signing_key)).status_code == 202

    [row] = await rows(settings, Follow)
    assert row.state is FollowState.PENDING


async def test_reject_marks_the_follow_rejected_and_a_new_follow_retries(
    node: Node, settings: Settings, remote: FakeServer, client: httpx.AsyncClient
) -> None:
    alice = remote.actor("alice")
    coop = await node.coop()
    async with transaction(node.sessions) as session:
        follow = await follows.follow(session, node.remote, coop, handle(remote, "alice"), NOW)

    reject = alice.activity("Reject", follow.activity_iri, "r1")
    assert (await post_signed(client, "/inbox", reject, alice.signing_key)).status_code == 202
    [row] = await rows(settings, Follow)
    assert row.state is FollowState.REJECTED

    async with transaction(node.sessions) as session:
        again = await follows.follow(session, node.remote, coop, handle(remote, "alice"), NOW)
    assert again.state is FollowState.PENDING
    assert again.activity_iri != follow.activity_iri
    assert [activity["type"] for activity in await sent(settings)] == ["Follow", "Follow"]


async def test_unfollow_sends_undo_and_forgets_the_follow(
    node: Node, settings: Settings, remote: FakeServer
) -> None:
    alice = remote.actor("alice")
    coop = await node.coop()
    async with transaction(node.sessions) as session:
        follow = await follows.follow(session, node.remote, coop, handle(remote, "alice"), NOW)
    async with transaction(node.sessions) as session:
        await follows.unfollow(session, coop, alice.iri, NOW)

    assert await rows(settings, Follow) == []
    undo = (await sent(settings))[-1]
    assert (undo["type"], undo["actor"]) == ("Undo", COOP)
    assert undo["object"]["id"] == follow.activity_iri  # type: ignore[index]
    with pytest.raises(NotFound):
        async with transaction(node.sessions) as session:
            await follows.unfollow(session, coop, alice.iri, NOW)


async def test_approving_and_removing_followers_of_a_locked_actor(
    node: Node, settings: Settings, remote: FakeServer, client: httpx.AsyncClient
) -> None:
    async with transaction(node.sessions) as session:
        await session.execute(
            update(Actor).where(Actor.iri == COOP).values(manually_approves_followers=True)
        )
    alice = remote.actor("alice")
    await post_signed(client, "/inbox", alice.activity("Follow", COOP, "f1"), alice.signing_key)
    coop = await node.coop()

    async with transaction(node.sessions) as session:
        accepted = await follows.accept_follower(session, coop, alice.iri, NOW)
    assert accepted.state is FollowState.ACCEPTED
    assert (await client.get("/coop/followers")).json()["totalItems"] == 1

    async with transaction(node.sessions) as session:
        removed = await follows.remove_follower(session, coop, alice.iri, NOW)
    assert removed.state is FollowState.REJECTED
    assert (await client.get("/coop/followers")).json()["totalItems"] == 0
    assert [a["type"] for a in await sent(settings)] == ["Accept", "Reject"]


async def test_handle_whose_actor_host_does_not_confirm_it_is_refused(
    node: Node, settings: Settings, remote: FakeServer
) -> None:
    # Given alice's JRD points at an actor on another server…
    other = FakeServer()
    await other.start()
    try:
        bob = other.actor("bob")
        host = remote.base.removeprefix("http://")
        jrd = {
            "subject": f"acct:alice@{host}",
            "links": [{"rel": "self", "type": "application/activity+json", "href": bob.iri}],
        }
        remote.custom["/.well-known/webfinger"] = (200, "application/jrd+json", _json(jrd), {})
        # …whose own WebFinger for bob links elsewhere (Mastodon: "does not loop back")
        elsewhere = {
            "subject": f"acct:bob@{other.base.removeprefix('http://')}",
            "links": [
                {"rel": "self", "type": "application/activity+json", "href": f"{other.base}/x"}
            ],
        }
        other.custom["/.well-known/webfinger"] = (200, "application/jrd+json", _json(elsewhere), {})
        coop = await node.coop()

        with pytest.raises(RemoteError, match="loop back"):
            async with transaction(node.sessions) as session:
                await follows.follow(session, node.remote, coop, f"@alice@{host}", NOW)
    finally:
        await other.stop()
    assert await rows(settings, Follow) == []


async def test_vanity_handle_confirmed_by_the_actor_host_is_followed(
    node: Node, settings: Settings, remote: FakeServer
) -> None:
    # Given @carol@<remote> is served by an actor whose host names carol as its account
    other = FakeServer()
    await other.start()
    try:
        dave = other.actor("dave")
        host = remote.base.removeprefix("http://")
        link = {"rel": "self", "type": "application/activity+json", "href": dave.iri}
        jrd = {"subject": f"acct:carol@{host}", "links": [link]}
        remote.custom["/.well-known/webfinger"] = (200, "application/jrd+json", _json(jrd), {})
        other.custom["/.well-known/webfinger"] = (200, "application/jrd+json", _json(jrd), {})
        coop = await node.coop()

        async with transaction(node.sessions) as session:
            follow = await follows.follow(session, node.remote, coop, f"@carol@{host}", NOW)
    finally:
        await other.stop()
    assert follow.followed_iri == dave.iri


def _json(document: object) -> bytes:
    return json.dumps(document).encode()


async def test_following_a_local_actor_by_handle_is_refused(
    node: Node, settings: Settings, remote: FakeServer
) -> None:
    # Given a remote JRD that points back at our own co-op
    host = remote.base.removeprefix("http://")
    jrd = {
        "subject": f"acct:river@{host}",
        "links": [{"rel": "self", "type": "application/activity+json", "href": COOP}],
    }
    remote.custom["/.well-known/webfinger"] = (200, "application/jrd+json", _json(jrd), {})
    coop = await node.coop()
    with pytest.raises((InvalidInput, RemoteError)):
        async with transaction(node.sessions) as session:
            await follows.follow(session, node.remote, coop, f"@river@{host}", NOW)
    assert await rows(settings, Follow) == []


# -- the command line ------------------------------------------------------------------------


@pytest.fixture
def threaded_remote() -> Iterator[FakeServer]:
    """The fake server on its own event loop, since `main()` runs one of its own."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    server = FakeServer()
    asyncio.run_coroutine_threadsafe(server.start(), loop).result(10)
    try:
        yield server
    finally:
        asyncio.run_coroutine_threadsafe(server.stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


def test_cli_follows_and_unfollows_as_a_member(
    node_dir: Path,
    settings: Settings,
    threaded_remote: FakeServer,
    capsys: pytest.CaptureFixture[str],
) -> None:
    alice = threaded_remote.actor("alice")
    target = handle(threaded_remote, "alice")

    assert main(["follow", "--data-dir", str(node_dir), target, "--as", "ana"], environ={}) == 0
    assert f"{BASE}/members/ana follows {alice.iri}: pending" in capsys.readouterr().out
    [row] = asyncio.run(rows(settings, Follow))
    assert (row.follower_iri, row.followed_iri) == (f"{BASE}/members/ana", alice.iri)

    assert main(["unfollow", "--data-dir", str(node_dir), target, "--as", "ana"], environ={}) == 0
    assert asyncio.run(rows(settings, Follow)) == []
    sent_types = [json.loads(r.body)["type"] for r in asyncio.run(rows(settings, OutgoingActivity))]
    assert sent_types == ["Follow", "Undo"]


def test_cli_refuses_an_unknown_member(
    node_dir: Path, threaded_remote: FakeServer, capsys: pytest.CaptureFixture[str]
) -> None:
    threaded_remote.actor("alice")
    argv = ["follow", "--data-dir", str(node_dir), handle(threaded_remote, "alice"), "--as", "zed"]
    assert main(argv, environ={}) == 2
    assert "no member 'zed'" in capsys.readouterr().err
