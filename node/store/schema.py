"""Schema revisions: upgrade to the newest migration, and refuse to serve an old schema.

Alembic runs on a connection we hand it (Alembic cookbook, "Programmatic API
use (connection sharing) with asyncio"), so the same async engine and pragmas
serve migrations and requests, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from node.errors import DatabaseNotAtHead

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection
    from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

__all__ = [
    "alembic_config",
    "current_revision",
    "ensure_at_head",
    "head_revision",
    "upgrade",
    "upgrade_in",
]

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic config for our migrations, with no alembic.ini on disk."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS).replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest revision this code knows."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:  # only if the versions directory were emptied
        raise RuntimeError(f"no migrations found in {MIGRATIONS}")
    return head


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Apply migrations up to ``revision`` in one transaction (both databases have DDL in it)."""
    async with engine.begin() as connection:
        await upgrade_in(connection, revision)


async def upgrade_in(connection: AsyncConnection, revision: str = "head") -> None:
    """Apply migrations inside the caller's transaction, so later writes commit with them."""
    await connection.run_sync(_upgrade, revision)


async def current_revision(engine: AsyncEngine) -> str | None:
    """The revision the database is at, or ``None`` for an empty database."""
    async with engine.connect() as connection:
        return await connection.run_sync(_current)


async def ensure_at_head(engine: AsyncEngine) -> None:
    """Raise :class:`DatabaseNotAtHead` unless the schema is at the newest revision."""
    current, head = await current_revision(engine), head_revision()
    if current != head:
        raise DatabaseNotAtHead(current, head)


def _upgrade(connection: Connection, revision: str) -> None:
    command.upgrade(alembic_config(connection), revision)


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()
