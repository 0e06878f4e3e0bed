"""The inbox's storage on SQLite and (when configured) PostgreSQL: dedupe, actor cache, follows."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest
from fediverse import rsa_key

from node.config import Settings
from node.remote.actors import save_actor
from node.store import follows, inbox, moderation, remote_actors
from node.store.db import create_engine, create_sessions, transaction
from node.store.models import Actor, ActorKey, Block, DomainBlock, Follow, FollowState, InboxLog
from node.store.schema import upgrade
from protocol.keys import SigningKey
from protocol.objects import Actor as APActor
from protocol.vocab import ActorType

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from node.store.db import Sessions

NOW = datetime(2026, 2, 3, 4, 5, 6, tzinfo=UTC)
LOCAL = "https://coop.example/coop"


@pytest.fixture
async def sessions(tmp_path: Path, database_url: str) -> AsyncIterator[Sessions]:
    settings = Settings(
        data_dir=tmp_path,
        base_url="https://coop.example",
        coop_handle="river",
        coop_name="River Care",
        database_url=database_url,
    )
    engine = create_engine(settings)
    await upgrade(engine)
    yield create_sessions(engine)
    await engine.dispose()


def entry(iri: str) -> InboxLog:
    return InboxLog(
        activity_iri=iri,
        activity_type="Like",
        object_type=None,
        actor_iri="https://far.example/users/a",
        received=NOW,
        raw='{"type": "Like"}',
    )


def ap_actor(handle: str, *keys: SigningKey, **extra: object) -> APActor:
    iri = f"https://far.example/users/{handle}"
    return APActor(
        id=iri,
        type=ActorType.PERSON,
        inbox=f"{iri}/inbox",
        shared_inbox="https://far.example/inbox",
        preferred_username=handle,
        public_keys=tuple(key.public(iri) for key in keys),
        **extra,  # type: ignore[arg-type]
    )


def key_of(name: str, key_name: str) -> SigningKey:
    return SigningKey(f"https://far.example/users/{name}#main-key", rsa_key(key_name).key)


async def test_an_activity_id_is_recorded_once(sessions: Sessions) -> None:
    async with transaction(sessions) as session:
        assert await inbox.record_activity(session, entry("https://far.example/a/1"))
    async with transaction(sessions) as session:
        assert not await inbox.record_activity(session, entry("https://far.example/a/1"))
        assert await inbox.record_activity(session, entry("https://far.example/a/2"))
    async with sessions() as session:
        assert await inbox.count_entries(session) == 2


async def test_concurrent_deliveries_of_one_activity_record_it_once(sessions: Sessions) -> None:
    async def deliver() -> bool:
        async with transaction(sessions) as session:
            new = await inbox.record_activity(session, entry("https://far.example/a/race"))
            await asyncio.sleep(0.05)  # hold the transaction open while the other one tries
            return new

    results = await asyncio.gather(*(deliver() for _ in range(4)))
    assert sorted(results) == [False, False, False, True]


async def test_saving_an_actor_again_replaces_its_keys(sessions: Sessions) -> None:
    async with transaction(sessions) as session:
        await save_actor(session, ap_actor("alice", key_of("alice", "k1")), NOW)
    later = NOW + timedelta(days=2)
    async with transaction(sessions) as session:
        saved = await save_actor(
            session, ap_actor("alice", key_of("alice", "k2"), name="Alice"), later
        )
    async with sessions() as session:
        found = await remote_actors.get_key_with_owner(session, key_of("alice", "k2").id)
    assert found is not None
    key, owner = found
    assert owner == saved.iri
    assert key.public_pem == key_of("alice", "k2").public(owner).pem()
    assert (saved.name, saved.fetched_at) == ("Alice", later)


async def test_keys_the_actor_does_not_own_are_not_stored(sessions: Sessions) -> None:
    # Given Mallory's document lists a key whose owner is Alice
    alice_key = key_of("alice", "k1").public("https://far.example/users/alice")
    mallory = ap_actor("mallory")
    claimed = APActor(**{**_fields(mallory), "public_keys": (alice_key,)})  # type: ignore[arg-type]
    async with transaction(sessions) as session:
        await save_actor(session, claimed, NOW)
    async with sessions() as session:
        assert await remote_actors.get_key_with_owner(session, alice_key.id) is None


def _fields(actor: APActor) -> dict[str, object]:
    return {name: getattr(actor, name) for name in actor.__dataclass_fields__}


async def test_deleting_a_remote_actor_removes_its_keys(sessions: Sessions) -> None:
    async with transaction(sessions) as session:
        await save_actor(session, ap_actor("alice", key_of("alice", "k1")), NOW)
    async with transaction(sessions) as session:
        assert await remote_actors.delete_remote_actor(session, "https://far.example/users/alice")
        assert not await remote_actors.delete_remote_actor(session, "https://far.example/users/x")
    async with sessions() as session:
        assert await session.get(ActorKey, 1) is None
        assert (
            await remote_actors.get_remote_actor(session, "https://far.example/users/alice") is None
        )


async def test_follower_inboxes_are_shared_once_and_skip_blockers(sessions: Sessions) -> None:
    async with transaction(sessions) as session:
        for name in ("a", "b", "c"):
            await save_actor(session, ap_actor(name), NOW)
            session.add(
                Follow(
                    follower_iri=f"https://far.example/users/{name}",
                    followed_iri=LOCAL,
                    state=FollowState.ACCEPTED,
                    activity_iri=f"https://far.example/follows/{name}",
                    created=NOW,
                    updated=NOW,
                )
            )
        await save_actor(
            session,
            APActor(
                id="https://solo.example/u",
                type=ActorType.PERSON,
                inbox="https://solo.example/u/inbox",
            ),
            NOW,
        )
        session.add(
            Follow(
                follower_iri="https://solo.example/u",
                followed_iri=LOCAL,
                state=FollowState.ACCEPTED,
                activity_iri="https://solo.example/f",
                created=NOW,
                updated=NOW,
            )
        )
    async with sessions() as session:
        assert await follows.follower_inboxes(session, LOCAL) == [
            "https://far.example/inbox",
            "https://solo.example/u/inbox",
        ]
    async with transaction(sessions) as session:
        session.add(
            Block(
                blocker_iri="https://solo.example/u",
                blocked_iri=LOCAL,
                activity_iri="https://solo.example/b",
                created=NOW,
            )
        )
    async with sessions() as session:
        assert await follows.follower_inboxes(session, LOCAL) == ["https://far.example/inbox"]
        assert await moderation.is_blocked_by(session, LOCAL, "https://solo.example/u")
        assert await follows.count_followers(session, LOCAL) == 4


async def test_domain_blocks_cover_subdomains(sessions: Sessions) -> None:
    async with transaction(sessions) as session:
        await moderation.add_domain_block(
            session, DomainBlock(domain="bad.example", reason="spam", created=NOW)
        )
    async with sessions() as session:
        assert await moderation.domain_is_blocked(session, "bad.example")
        assert await moderation.domain_is_blocked(session, "social.bad.example")
        assert not await moderation.domain_is_blocked(session, "notbad.example")


async def test_a_remote_actor_never_shadows_a_local_one(sessions: Sessions) -> None:
    async with transaction(sessions) as session:
        session.add(
            Actor(
                iri="https://far.example/users/alice",
                kind="member",
                ap_type="Person",
                handle="alice",
                domain="far.example",
                inbox="x",
                published=NOW,
            )
        )
    async with sessions() as session:
        assert (
            await remote_actors.get_remote_actor(session, "https://far.example/users/alice") is None
        )
