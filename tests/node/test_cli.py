"""sharing-care init / migrate / member add / serve's schema check, run in-process on SQLite.

``main(argv, environ)`` is the console script's entry point, so these tests
drive exactly what an operator types.
"""

from __future__ import annotations

import asyncio
import os
import tomllib
from typing import TYPE_CHECKING

import pytest
from nodekit import ADMIN_PASSWORD, DATABASES, init_argv

from node.actions.passwords import verify_password
from node.cli import main
from node.config import load_settings
from node.store import actors, members
from node.store.db import create_engine, create_sessions, transaction
from node.store.models import ActorKind, MemberRole
from node.store.schema import current_revision, head_revision

if TYPE_CHECKING:
    from pathlib import Path

    from node.config import Settings


async def _snapshot(settings: Settings) -> dict[str, object]:
    """What the database holds, as plain values."""
    engine = create_engine(settings)
    try:
        async with transaction(create_sessions(engine)) as session:
            coop = await actors.get_local_actor(session, ActorKind.COOP)
            application = await actors.get_local_actor(session, ActorKind.APPLICATION)
            admin = await members.get_member_by_username(session, "ana")
            assert coop is not None
            assert application is not None
            assert admin is not None
            return {
                "revision": await current_revision(engine),
                "coop": (coop.iri, coop.ap_type, coop.handle, coop.name),
                "coop_keys": [k.algorithm.value for k in await actors.current_keys(session, coop)],
                "application": (application.iri, application.ap_type, application.handle),
                "app_keys": len(await actors.current_keys(session, application)),
                "admin": (admin.role, admin.actor.iri, admin.actor.ap_type),
                "admin_hash": admin.password_hash,
                "members": await members.count_members(session),
            }
    finally:
        await engine.dispose()


@pytest.mark.parametrize("database", DATABASES)
def test_init_creates_a_complete_node(
    request: pytest.FixtureRequest, tmp_path: Path, password_file: Path, database: str
) -> None:
    # Given an empty place for the node (and, for PostgreSQL, an empty database)
    data_dir = tmp_path / "node"
    environ = {}
    if database == "postgresql":
        environ["SHARING_CARE_DATABASE_URL"] = request.getfixturevalue("postgres_url")

    # When init runs
    assert main(init_argv(data_dir, password_file), environ) == 0

    # Then the config holds what was given, and the database is at head with every actor
    config = tomllib.loads((data_dir / "config.toml").read_text(encoding="utf-8"))
    assert config == {
        "base_url": "http://127.0.0.1:8000",
        "coop_handle": "river",
        "coop_name": "River Care",
        "local_dev": True,
    }
    assert data_dir.stat().st_mode & 0o077 == 0  # private keys live here
    snapshot = asyncio.run(_snapshot(load_settings(data_dir, environ)))
    assert snapshot["revision"] == head_revision()
    assert snapshot["coop"] == ("http://127.0.0.1:8000/coop", "Group", "river", "River Care")
    assert snapshot["coop_keys"] == ["rsa", "ed25519"]
    assert snapshot["application"] == ("http://127.0.0.1:8000/actor", "Application", "127.0.0.1")
    assert snapshot["app_keys"] == 2
    assert snapshot["admin"] == (MemberRole.ADMIN, "http://127.0.0.1:8000/members/ana", "Person")
    assert verify_password(str(snapshot["admin_hash"]), ADMIN_PASSWORD)
    assert snapshot["members"] == 1


def test_init_reads_the_password_from_the_environment(tmp_path: Path) -> None:
    argv = init_argv(tmp_path / "node", tmp_path / "unused")[:-2]  # no --admin-password-file
    environ = {"SHARING_CARE_ADMIN_PASSWORD": "from the environment"}
    assert main(argv, environ) == 0
    snapshot = asyncio.run(_snapshot(load_settings(tmp_path / "node", {})))
    assert verify_password(str(snapshot["admin_hash"]), "from the environment")


def test_init_without_any_password_source_refuses(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = init_argv(tmp_path / "node", tmp_path / "unused")[:-2]
    assert main(argv, {}) == 2  # stdin is not a terminal under pytest: no prompt
    assert "no password for admin" in capsys.readouterr().err
    assert not (tmp_path / "node").exists()


def test_init_refuses_a_non_empty_data_dir(
    tmp_path: Path, password_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data_dir = tmp_path / "node"
    data_dir.mkdir()
    (data_dir / "notes.txt").write_text("mine", encoding="utf-8")

    assert main(init_argv(data_dir, password_file), {}) == 2

    err = capsys.readouterr().err
    assert err.startswith("sharing-care: error: ")
    assert "is not an empty directory" in err
    assert err.count("\n") == 1  # one line
    assert sorted(p.name for p in data_dir.iterdir()) == ["notes.txt"]


def test_init_reports_all_bad_input_and_writes_nothing(
    tmp_path: Path, password_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    short = tmp_path / "short"
    short.write_text("short", encoding="utf-8")
    argv = init_argv(tmp_path / "node", short, base_url="http://coop.example")
    argv[argv.index("--handle") + 1] = "River!"
    argv[argv.index("--admin") + 1] = "Ana Admin"

    assert main(argv, {}) == 2

    err = capsys.readouterr().err
    for problem in ("base_url: http://", "coop_handle", "username must be", "password must be"):
        assert problem in err
    assert not (tmp_path / "node").exists()


def test_init_into_an_initialised_database_refuses_and_cleans_up(
    tmp_path: Path, password_file: Path, node_template: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a second data dir pointed at the template node's (initialised) database
    environ = {"SHARING_CARE_DATABASE_URL": f"sqlite+aiosqlite:///{node_template}/node.sqlite3"}
    data_dir = tmp_path / "second"

    assert main(init_argv(data_dir, password_file), environ) == 2

    assert "already initialised" in capsys.readouterr().err
    assert not data_dir.exists()


def test_migrate_brings_an_empty_database_to_head(
    node_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (node_dir / "node.sqlite3").unlink()
    assert main(["migrate", "--data-dir", str(node_dir)], {}) == 0
    assert f"database is at revision {head_revision()}" in capsys.readouterr().out
    engine = create_engine(load_settings(node_dir, {}))
    try:
        assert asyncio.run(current_revision(engine)) == head_revision()
    finally:
        asyncio.run(engine.dispose())


def test_serve_refuses_a_database_not_at_head(
    node_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (node_dir / "node.sqlite3").unlink()  # an empty database: revision "none"
    before = dict(os.environ)

    assert main(["serve", "--data-dir", str(node_dir), "--port", "1"], {}) == 2

    err = capsys.readouterr().err
    assert "database is at revision empty (no schema)" in err
    assert "run `sharing-care migrate --data-dir DIR` first" in err
    assert dict(os.environ) == before  # refused before touching the process environment


def test_serve_reports_bad_flags_as_config_errors(
    node_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["serve", "--data-dir", str(node_dir), "--port", "http", "--workers", "0"]
    assert main(argv, {}) == 2
    err = capsys.readouterr().err
    assert "SHARING_CARE_PORT: must be a whole number" in err
    assert "SHARING_CARE_WORKERS: must be between 1 and 64" in err


def test_commands_on_a_missing_data_dir_fail_cleanly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["migrate", "--data-dir", str(tmp_path / "absent")], {}) == 2
    assert "config.toml does not exist" in capsys.readouterr().err


def test_member_add(node_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    password = tmp_path / "bo-password"
    password.write_text("bo's long password\n", encoding="utf-8")
    argv = ["member", "add", "--data-dir", str(node_dir), "bo", "--role", "editor"]

    assert main([*argv, "--password-file", str(password)], {}) == 0
    assert "added editor @bo@127.0.0.1:8000" in capsys.readouterr().out

    # Adding the same name again is refused with one line
    assert main([*argv, "--password-file", str(password)], {}) == 2
    assert "already taken" in capsys.readouterr().err


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["init"], {}) == 2
    assert "required" in capsys.readouterr().err
    assert main([], {}) == 2
