"""Actor documents: what Mastodon needs to accept our Group, Persons and Application."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from nodekit import serving

from node.app import create_app
from node.config import load_settings
from node.keyring import load_keyring
from node.store.db import create_engine, create_sessions
from protocol.keys import check_key_owner, read_multikey, read_public_key_document
from protocol.vocab import ACTIVITYSTREAMS, SECURITY_V1

if TYPE_CHECKING:
    from pathlib import Path

    import httpx

    from node.config import Settings

BASE = "http://127.0.0.1:8000"
AS_JSON = "application/activity+json"


async def fetch(client: httpx.AsyncClient, path: str) -> dict[str, Any]:
    # Mastodon's fetch Accept header (jsonld_helper.rb#build_request)
    accept = 'application/activity+json, application/ld+json; profile="..."'
    response = await client.get(path, headers={"Accept": accept})
    assert response.status_code == 200
    assert response.headers["content-type"] == AS_JSON
    document: dict[str, Any] = response.json()
    return document


@pytest.mark.parametrize(
    ("path", "ap_type", "username", "locked"),
    [
        ("/coop", "Group", "river", False),
        ("/members/ana", "Person", "ana", False),
        ("/actor", "Application", "127.0.0.1", True),
    ],
)
async def test_actor_has_what_mastodon_needs(
    client: httpx.AsyncClient, path: str, ap_type: str, username: str, locked: bool
) -> None:
    doc = await fetch(client, path)
    actor_id = BASE + path

    # anchors.md §4.2: context, id == fetched URL, type, preferredUsername, inbox…
    assert doc["@context"][:2] == [ACTIVITYSTREAMS, SECURITY_V1]
    assert doc["id"] == actor_id
    assert doc["type"] == ap_type
    assert doc["preferredUsername"] == username
    for collection in ("inbox", "outbox", "followers", "following", "featured"):
        assert doc[collection] == f"{actor_id}/{collection}"
    assert doc["endpoints"] == {"sharedInbox": f"{BASE}/inbox"}
    assert doc["url"] == actor_id
    assert doc["manuallyApprovesFollowers"] is locked
    assert doc["discoverable"] is not locked
    assert doc["published"].endswith("Z")

    # publicKey (RSA, Mastodon) and assertionMethod (Ed25519 Multikey, FEP-521a)
    rsa = read_public_key_document(doc["publicKey"])
    assert (rsa.id, rsa.algorithm) == (f"{actor_id}#main-key", "rsa")
    check_key_owner(rsa, actor_id)
    [multikey] = doc["assertionMethod"]
    ed = read_multikey(multikey)
    assert (ed.id, ed.algorithm) == (f"{actor_id}#ed25519-key", "ed25519")
    check_key_owner(ed, actor_id)


async def test_published_keys_verify_what_the_keyring_signs(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    """What the node signs with (keys loaded once) verifies with what it publishes."""
    doc = await fetch(client, "/coop")
    engine = create_engine(settings)
    try:
        keyring = await load_keyring(create_sessions(engine))
    finally:
        await engine.dispose()
    rsa_signer = keyring.signing_key(f"{BASE}/coop", "rsa")
    ed_signer = keyring.signing_key(f"{BASE}/coop", "ed25519")
    assert rsa_signer is not None
    assert ed_signer is not None

    read_public_key_document(doc["publicKey"]).verify(rsa_signer.sign(b"data"), b"data")
    read_multikey(doc["assertionMethod"][0]).verify(ed_signer.sign(b"data"), b"data")


async def test_unknown_member_is_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/members/nobody")
    assert response.status_code == 404
    assert response.json() == {"error": "no such member"}


async def test_coop_carries_the_federation_when_configured(node_dir: Path) -> None:
    federation = "https://federation.example/members"
    settings = load_settings(node_dir, {"SHARING_CARE_FEDERATION_IRI": federation})
    async with serving(create_app(settings), BASE) as client:
        coop = await fetch(client, "/coop")
        member = await fetch(client, "/members/ana")
    assert coop["federation"] == federation
    assert "federation" not in member
