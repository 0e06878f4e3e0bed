"""The inbox refuses what it must, with a clear status, and stores nothing when it does.

Each case sends one request that Mastodon would refuse (anchors.md §4.3-4.4)
and checks both the status and that no table the inbox writes to changed.
The remote actors live on a real HTTP server on loopback (local development
mode lets the node fetch from it).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest
from fediverse import FakeServer, post_signed, rsa_key, stored
from sqlalchemy import insert

from node.store.db import create_engine
from node.store.models import DomainBlock
from protocol.keys import SigningKey
from protocol.safety import MAX_ACTIVITY_BYTES

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


def follow_of_coop(
    server: FakeServer, name: str = "alice", suffix: str = "f1"
) -> dict[str, object]:
    return server.actor(name).activity("Follow", COOP, suffix)


async def test_unsigned_is_401(
    client: httpx.AsyncClient, settings: Settings, remote: FakeServer
) -> None:
    before = await stored(settings)
    response = await post_signed(client, "/inbox", follow_of_coop(remote), key=None)
    assert response.status_code == 401
    assert "Signature" in response.json()["error"]
    assert await stored(settings) == before
    assert remote.gets == []  # no key was even looked for


async def test_forged_signature_by_a_key_the_actor_does_not_own_is_401(
    client: httpx.AsyncClient, settings: Settings, remote: FakeServer
) -> None:
    # Given Mallory signs with her own (valid) key an activity claiming to be Alice's
    mallory = remote.actor("mallory")
    forged = follow_of_coop(remote, "alice")
    before = await stored(settings)

    response = await post_signed(client, "/inbox", forged, mallory.signing_key)

    # Then the signature verifies but Mallory is not Alice: refused, nothing taken in
    assert response.status_code == 401
    assert "owned by" in response.json()["error"]
    after = await stored(settings)
    assert after.pop("keys") == before.pop("keys") + 1  # Mallory's key is cached, nothing else
    assert after == before


async def test_stale_date_is_401_without_fetching_the_key(
    client: httpx.AsyncClient, settings: Settings, remote: FakeServer
) -> None:
    alice = remote.actor("alice")
    before = await stored(settings)
    two_hours_ago = datetime.now(UTC) - timedelta(hours=2)

    response = await post_signed(
        client, "/inbox", follow_of_coop(remote), alice.signing_key, now=two_hours_ago
    )

    assert response.status_code == 401
    assert "valid until" in response.json()["error"]
    assert await stored(settings) == before
    assert remote.gets == []


async def test_replayed_activity_is_202_and_changes_nothing(
    client: httpx.AsyncClient, settings: Settings, remote: FakeServer
) -> None:
    alice = remote.actor("alice")
    follow = follow_of_coop(remote)
    first = await post_signed(client, "/inbox", follow, alice.signing_key)
    assert first.status_code == 202
    after_first = await stored(settings)
    assert (after_first["inbox_log"], after_first["follows"], after_first["outgoing"]) == (1, 1, 1)

    # When the very same activity arrives again (a fresh, valid signature: a redelivery)
    again = await post_signed(client, "/inbox", follow, alice.signing_key)

    # Then it is acknowledged, and no second Accept or row appears
    assert again.status_code == 202
    assert await stored(settings) == after_first


async def test_wrong_key_is_401_after_one_refetch(
    client: httpx.AsyncClient, settings: Settings, remote: FakeServer
) -> None:
    # Given Alice is known (her key cached by an earlier activity)
    alice = remote.actor("alice")
    ok = await post_signed(client, "/inbox", follow_of_coop(remote), alice.signing_key)
    assert ok.status_code == 202
    fetched_before = remote.fetches_of(alice)
    before = await stored(settings)

    # When a request names Alice's key id but is signed with another private key
    impostor = SigningKey(alice.key_id, rsa_key("impostor").key)
    like = alice.activity("Like", COOP, "like-1")
    response = await post_signed(client, "/inbox", like, impostor)

    # Then Alice is refetched once (it might have been a rotation), and it still fails
    assert response.status_code == 401
    assert remote.fetches_of(alice) == fetched_before + 1
    assert await stored(settings) == before


async def test_oversize_body_is_413(
    client: httpx.AsyncClient, settings: Settings, remote: FakeServer
) -> None:
    alice = remote.actor("alice")
    padding = "x" * MAX_ACTIVITY_BYTES
    big = alice.activity("Create", f"{alice.iri}/notes/1", "big", content=padding)
    before = await stored(settings)

    response = await post_signed(client, "/inbox", big, alice.signing_key)

    assert response.status_code == 413
    assert await stored(settings) == before
    assert remote.gets == []


async def test_malformed_json_is_400(
    client: httpx.AsyncClient, settings: Settings, remote: FakeServer
) -> None:
    alice = remote.actor("alice")
    before = await stored(settings)

    response = await post_signed(client, "/inbox", None, alice.signing_key, body=b'{"type": "Fol')

    assert response.status_code == 400
    assert "not JSON" in response.json()["error"]
    assert await stored(settings) == before


async def test_json_that_is_not_an_activity_is_400(
    client: httpx.AsyncClient, settings: Settings, remote: FakeServer
) -> None:
    alice = remote.actor("alice")
    before = await stored(settings)
    note = {"type": "Note", "id": f"{alice.iri}/notes/1", "content": "hi"}

    response = await post_signed(client, "/inbox", note, alice.signing_key)

    assert response.status_code == 400
    assert await stored(settings) == before


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", ""])
async def test_wrong_content_type_is_415(
    client: httpx.AsyncClient, settings: Settings, remote: FakeServer, content_type: str
) -> None:
    alice = remote.actor("alice")
    before = await stored(settings)

    response = await post_signed(
        client, "/inbox", follow_of_coop(remote), alice.signing_key, content_type=content_type
    )

    assert response.status_code == 415
    assert await stored(settings) == before


async def test_ld_json_with_profile_is_accepted(
    client: httpx.AsyncClient, settings: Settings, remote: FakeServer
) -> None:
    alice = remote.actor("alice")
    ld = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
    response = await post_signed(
        client, "/inbox", follow_of_coop(remote), alice.signing_key, content_type=ld
    )
    assert response.status_code == 202


async def test_blocked_domain_is_403_without_fetching(
    client: httpx.AsyncClient, settings: Settings, remote: FakeServer
) -> None:
    alice = remote.actor("alice")
    engine = create_engine(settings)
    async with engine.begin() as connection:
        await connection.execute(
            insert(DomainBlock).values(domain="127.0.0.1", reason="test", created=datetime.now(UTC))
        )
    await engine.dispose()
    before = await stored(settings)

    response = await post_signed(client, "/inbox", follow_of_coop(remote), alice.signing_key)

    assert response.status_code == 403
    assert await stored(settings) == before
    assert remote.gets == []


async def test_object_off_the_actors_origin_is_400(
    client: httpx.AsyncClient, settings: Settings, remote: FakeServer
) -> None:
    # Given Alice claims to create a note that lives on another server
    alice = remote.actor("alice")
    note = {"type": "Note", "id": "https://elsewhere.example/notes/1", "content": "hi"}
    create = alice.activity("Create", note, "c1")
    before = await stored(settings)

    response = await post_signed(client, "/inbox", create, alice.signing_key)

    assert response.status_code == 400
    assert "origin" in response.json()["error"]
    after = await stored(settings)
    assert after.pop("keys") == before.pop("keys") + 1  # verified first: Alice's key is cached
    assert after == before


async def test_activity_without_id_is_400(
    client: httpx.AsyncClient, settings: Settings, remote: FakeServer
) -> None:
    alice = remote.actor("alice")
    follow = follow_of_coop(remote)
    del follow["id"]
    before = await stored(settings)

    response = await post_signed(client, "/inbox", follow, alice.signing_key)

    assert response.status_code == 400
    assert "needs an id" in response.json()["error"]
    after = await stored(settings)
    assert after.pop("keys") == before.pop("keys") + 1  # verified first: Alice's key is cached
    assert after == before


async def test_unknown_key_that_cannot_be_fetched_is_401(
    client: httpx.AsyncClient, settings: Settings, remote: FakeServer
) -> None:
    # Given Bob signs, but his actor document is not served (404)
    bob = remote.actor("bob")
    del remote.documents["/users/bob"]
    before = await stored(settings)

    response = await post_signed(
        client, "/inbox", bob.activity("Follow", COOP, "f"), bob.signing_key
    )

    assert response.status_code == 401
    assert await stored(settings) == before


async def test_inbox_of_unknown_member_is_404(
    client: httpx.AsyncClient, settings: Settings, remote: FakeServer
) -> None:
    alice = remote.actor("alice")
    before = await stored(settings)
    response = await post_signed(
        client, "/members/nobody/inbox", follow_of_coop(remote), alice.signing_key
    )
    assert response.status_code == 404
    assert await stored(settings) == before
