"""Fixtures for node tests: databases (SQLite always, PostgreSQL when configured), nodes, clients.

PostgreSQL runs when ``SHARING_CARE_TEST_POSTGRES`` names a server, e.g.
``postgresql+asyncpg://postgres@127.0.0.1:5432/test``: each test gets a fresh
database, dropped afterwards. Without the variable the PostgreSQL cases are
*deselected* (reported in the summary), never skipped: when the variable is
set, a PostgreSQL failure is a failure.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from typing import TYPE_CHECKING, Any

import pytest
from nodekit import ADMIN_PASSWORD, DATABASES, POSTGRES_ENV, POSTGRES_EXAMPLE, init_argv, serving
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from node.app import create_app
from node.cli import main
from node.config import load_settings

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator
    from pathlib import Path

    import httpx

    from node.config import Settings

_DESELECTED = pytest.StashKey[int]()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect (not skip) PostgreSQL cases when no server is configured."""
    if os.environ.get(POSTGRES_ENV):
        return
    dropped = [item for item in items if item.get_closest_marker("postgresql")]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = [item for item in items if not item.get_closest_marker("postgresql")]
        config.stash[_DESELECTED] = len(dropped)


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    count = config.stash.get(_DESELECTED, 0)
    if count:
        terminalreporter.write_line(
            f"{count} PostgreSQL test(s) deselected because {POSTGRES_ENV} is not set "
            f"(e.g. {POSTGRES_ENV}={POSTGRES_EXAMPLE})"
        )


# -- databases ------------------------------------------------------------------------------


async def _admin_sql(admin_url: str, statement: str) -> None:
    engine = create_async_engine(admin_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            await connection.exec_driver_sql(statement)
    finally:
        await engine.dispose()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, uniquely named PostgreSQL database; dropped after the test."""
    admin_url = os.environ.get(POSTGRES_ENV)
    if not admin_url:  # deselection should have prevented this; fail loudly, never skip
        pytest.fail(f"{POSTGRES_ENV} is not set but a PostgreSQL test was selected")
    name = f"sc_test_{uuid.uuid4().hex[:16]}"
    asyncio.run(_admin_sql(admin_url, f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(_admin_sql(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=DATABASES)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database: SQLite in tmp_path, or a fresh PostgreSQL database."""
    if request.param == "postgresql":
        url: str = request.getfixturevalue("postgres_url")
        return url
    return f"sqlite+aiosqlite:///{tmp_path / 'test.sqlite3'}"


# -- nodes ----------------------------------------------------------------------------------


@pytest.fixture
def password_file(tmp_path: Path) -> Path:
    """A file holding the admin's password, as `--admin-password-file` reads it."""
    path = tmp_path / "password"
    path.write_text(ADMIN_PASSWORD + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def node_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An initialised SQLite node, made once per session (RSA keys take a while)."""
    root = tmp_path_factory.mktemp("template")
    password = root / "password"
    password.write_text(ADMIN_PASSWORD, encoding="utf-8")
    code = main(init_argv(root / "node", password), environ={})
    assert code == 0
    return root / "node"


@pytest.fixture
def node_dir(node_template: Path, tmp_path: Path) -> Path:
    """A private copy of the template node, free to change."""
    target = tmp_path / "node"
    shutil.copytree(node_template, target)
    return target


@pytest.fixture
def settings(node_dir: Path) -> Settings:
    """The template node's settings; its SQLite database is the copy in ``node_dir``."""
    return load_settings(node_dir, {})


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """An in-process client for the template node."""
    async with serving(create_app(settings), settings.base_url) as http:
        yield http
