"""node.store: migrations and named queries, on SQLite and (when configured) PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone
from typing import TYPE_CHECKING

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from node.actions.local_actors import build_local_actor
from node.actions.members import NewMember, add_member
from node.actions.passwords import verify_password
from node.config import Settings
from node.errors import AlreadyExists, DatabaseNotAtHead, InvalidInput
from node.iris import coop_iris, member_iris
from node.keyring import load_keyring
from node.store import actors, members
from node.store.db import create_engine, create_sessions, transaction
from node.store.models import Actor, ActorKey, ActorKind, Base, KeyAlgorithm, MemberRole
from node.store.schema import (
    alembic_config,
    current_revision,
    ensure_at_head,
    head_revision,
    upgrade,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from sqlalchemy.engine import Connection
    from sqlalchemy.ext.asyncio import AsyncEngine

    from node.store.db import Sessions

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
BASE = "https://coop.example"


@pytest.fixture
def store_settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(
        data_dir=tmp_path,
        base_url=BASE,
        coop_handle="river",
        coop_name="River Care",
        database_url=database_url,
    )


@pytest.fixture
async def engine(store_settings: Settings) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(store_settings)
    yield engine
    await engine.dispose()


@pytest.fixture
async def sessions(engine: AsyncEngine) -> Sessions:
    await upgrade(engine)
    return create_sessions(engine)


def coop(handle: str = "river") -> Actor:
    return build_local_actor(
        iris=coop_iris(BASE),
        kind=ActorKind.COOP,
        handle=handle,
        domain="coop.example",
        name="River Care",
        now=NOW,
    )


def remote(iri: str, handle: str) -> Actor:
    return Actor(
        iri=iri,
        kind=ActorKind.REMOTE,
        ap_type="Person",
        handle=handle,
        domain="elsewhere.example",
        inbox=f"{iri}/inbox",
        published=NOW,
        fetched_at=NOW,
    )


# -- migrations ----------------------------------------------------------------------------


async def test_empty_database_is_not_at_head(engine: AsyncEngine) -> None:
    assert await current_revision(engine) is None
    with pytest.raises(DatabaseNotAtHead) as caught:
        await ensure_at_head(engine)
    assert "sharing-care migrate" in str(caught.value)


async def test_upgrade_reaches_head_and_is_idempotent(engine: AsyncEngine) -> None:
    await upgrade(engine)
    await upgrade(engine)
    assert await current_revision(engine) == head_revision()
    await ensure_at_head(engine)


async def test_migrations_match_the_models(engine: AsyncEngine) -> None:
    """The hand-written revisions create exactly what the models declare."""
    await upgrade(engine)

    def diff(connection: Connection) -> list[object]:
        return list(compare_metadata(MigrationContext.configure(connection), Base.metadata))

    async with engine.connect() as connection:
        assert await connection.run_sync(diff) == []


async def test_sqlite_connections_get_wal_foreign_keys_and_busy_timeout(tmp_path: Path) -> None:
    settings = Settings(tmp_path, BASE, "river", "River Care", f"sqlite+aiosqlite:///{tmp_path}/x")
    engine = create_engine(settings)
    try:
        async with engine.connect() as connection:
            pragmas = [
                (await connection.exec_driver_sql(f"PRAGMA {name}")).scalar()
                for name in ("journal_mode", "foreign_keys", "busy_timeout")
            ]
    finally:
        await engine.dispose()
    assert pragmas == ["wal", 1, 5000]


def test_alembic_command_line_path_and_offline_sql(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """env.py also works without a shared connection (the ``alembic`` tool) and offline."""
    # Given only a URL, as `alembic upgrade head` would have
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.sqlite3'}"
    config = alembic_config()
    config.set_main_option("sqlalchemy.url", url)

    command.upgrade(config, "head")

    settings = Settings(tmp_path, BASE, "river", "River Care", url)
    engine = create_engine(settings)
    try:
        assert asyncio.run(current_revision(engine)) == head_revision()
    finally:
        asyncio.run(engine.dispose())

    # And offline (`--sql`) it writes PostgreSQL DDL without a server
    offline = alembic_config()
    offline.set_main_option("sqlalchemy.url", "postgresql+asyncpg://nobody@nowhere/none")
    command.upgrade(offline, "head", sql=True)
    ddl = capsys.readouterr().out
    assert "CREATE TABLE actors" in ddl
    assert (
        "CREATE UNIQUE INDEX uq_actors_local_handle ON actors (handle) WHERE kind != 'remote'"
        in ddl
    )


# -- actors and keys -------------------------------------------------------------------------


async def test_local_actor_round_trips_with_keys(sessions: Sessions) -> None:
    async with transaction(sessions) as session:
        await actors.add_actor(session, coop())

    async with transaction(sessions) as session:
        found = await actors.get_actor_by_iri(session, f"{BASE}/coop")
        assert found is not None
        keys = await actors.current_keys(session, found)

    assert (found.kind, found.ap_type, found.handle, found.is_local) == (
        ActorKind.COOP,
        "Group",
        "river",
        True,
    )
    assert found.published == NOW  # aware UTC on both databases
    assert [k.algorithm for k in keys] == [KeyAlgorithm.RSA, KeyAlgorithm.ED25519]
    assert [k.key_id for k in keys] == [f"{BASE}/coop#main-key", f"{BASE}/coop#ed25519-key"]
    assert all(k.private_pem and k.public_pem.startswith("-----BEGIN PUBLIC KEY") for k in keys)


async def test_times_are_stored_as_utc(sessions: Sessions) -> None:
    # Given a remote actor fetched at a time written in another zone
    plus_two = datetime(2026, 1, 2, 5, 4, 5, tzinfo=timezone(timedelta(hours=2)))
    actor = remote("https://elsewhere.example/users/bo", "bo")
    actor.fetched_at = plus_two
    async with transaction(sessions) as session:
        await actors.add_actor(session, actor)
    # Then it reads back as the same instant, in UTC
    async with transaction(sessions) as session:
        found = await actors.get_actor_by_iri(session, "https://elsewhere.example/users/bo")
    assert found is not None
    assert found.fetched_at == NOW
    assert found.fetched_at.tzinfo == UTC


async def test_naive_times_are_refused(sessions: Sessions) -> None:
    actor = remote("https://elsewhere.example/users/cy", "cy")
    actor.published = datetime(2026, 1, 1)  # noqa: DTZ001 (the point of the test)
    with pytest.raises(Exception, match="naive datetime"):
        async with transaction(sessions) as session:
            await actors.add_actor(session, actor)


async def test_local_handles_are_unique_but_remote_ones_are_not(sessions: Sessions) -> None:
    async with transaction(sessions) as session:
        await actors.add_actor(session, coop())
        # A remote "river" elsewhere is fine, twice even (accounts are re-created).
        await actors.add_actor(session, remote("https://a.example/u/river", "river"))
        await actors.add_actor(session, remote("https://b.example/u/river", "river"))
    with pytest.raises(IntegrityError):
        async with transaction(sessions) as session:
            clash = build_local_actor(
                iris=member_iris(BASE, "river"),
                kind=ActorKind.MEMBER,
                handle="river",
                domain="coop.example",
                name="Clash",
                now=NOW,
            )
            await actors.add_actor(session, clash)
    async with transaction(sessions) as session:
        assert await actors.get_local_actor_by_handle(session, "river") is not None
        assert await actors.count_local_actors(session, ActorKind.REMOTE) == 2


async def test_only_one_current_key_per_algorithm(sessions: Sessions) -> None:
    async with transaction(sessions) as session:
        actor = await actors.add_actor(session, coop())
        actor_id = actor.id
    with pytest.raises(IntegrityError):
        async with transaction(sessions) as session:
            session.add(
                ActorKey(
                    key_id=f"{BASE}/coop#second-key",
                    actor_id=actor_id,
                    algorithm=KeyAlgorithm.RSA,
                    public_pem="x",
                    private_pem=None,
                    created=NOW,
                    is_current=True,
                )
            )
            await session.flush()


async def test_deleting_an_actor_deletes_its_keys(sessions: Sessions) -> None:
    async with transaction(sessions) as session:
        actor = await actors.add_actor(session, coop())
        actor_id = actor.id
    async with transaction(sessions) as session:
        await session.execute(text("DELETE FROM actors WHERE id = :id"), {"id": actor_id})
    async with transaction(sessions) as session:
        count = await session.scalar(
            text("SELECT count(*) FROM actor_keys WHERE actor_id = :id"), {"id": actor_id}
        )
    assert count == 0  # ON DELETE CASCADE: foreign keys are enforced (SQLite pragma)


async def test_transaction_rolls_back_on_error(sessions: Sessions) -> None:
    with pytest.raises(RuntimeError):
        async with transaction(sessions) as session:
            await actors.add_actor(session, coop())
            raise RuntimeError("boom")
    async with transaction(sessions) as session:
        assert await actors.get_local_actor(session, ActorKind.COOP) is None


async def test_keyring_loads_current_local_keys(sessions: Sessions) -> None:
    async with transaction(sessions) as session:
        await actors.add_actor(session, coop())
        await actors.add_actor(session, remote("https://elsewhere.example/users/bo", "bo"))

    keyring = await load_keyring(sessions)

    rsa = keyring.signing_key(f"{BASE}/coop")
    ed = keyring.signing_key(f"{BASE}/coop", "ed25519")
    assert rsa is not None
    assert ed is not None
    assert (rsa.id, ed.id) == (f"{BASE}/coop#main-key", f"{BASE}/coop#ed25519-key")
    rsa.public(f"{BASE}/coop").verify(rsa.sign(b"hello"), b"hello")
    assert keyring.signing_key("https://elsewhere.example/users/bo") is None


# -- members -------------------------------------------------------------------------------


async def test_add_member_creates_person_and_hash(
    sessions: Sessions, store_settings: Settings
) -> None:
    new = NewMember("bo", "a long enough password", MemberRole.EDITOR, "Bo Ek")
    async with transaction(sessions) as session:
        await add_member(session, store_settings, new, NOW)

    async with transaction(sessions) as session:
        member = await members.get_member_by_username(session, "bo")
        total = await members.count_members(session)

    assert member is not None
    assert total == 1
    assert (member.display_name, member.role, member.created) == ("Bo Ek", MemberRole.EDITOR, NOW)
    assert member.actor.iri == f"{BASE}/members/bo"
    assert (member.actor.kind, member.actor.ap_type) == (ActorKind.MEMBER, "Person")
    assert member.password_hash.startswith("$argon2id$")
    assert verify_password(member.password_hash, "a long enough password")
    assert not verify_password(member.password_hash, "a wrong password!")


async def test_add_member_refuses_taken_names_and_bad_input(
    sessions: Sessions, store_settings: Settings
) -> None:
    async with transaction(sessions) as session:
        await actors.add_actor(session, coop())
    with pytest.raises(AlreadyExists):
        async with transaction(sessions) as session:
            await add_member(session, store_settings, NewMember("river", "long password!"), NOW)
    with pytest.raises(InvalidInput) as caught:
        async with transaction(sessions) as session:
            await add_member(session, store_settings, NewMember("Bad Name", "short"), NOW)
    assert "username must be" in str(caught.value)
    assert "password must be at least" in str(caught.value)
    async with transaction(sessions) as session:
        assert await members.count_members(session) == 0
