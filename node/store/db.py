"""The database engine, sessions and the one way to run a unit of work.

SQLite (aiosqlite) is the embedded default and PostgreSQL (asyncpg) the
scale-out choice; everything above this module is written once for both.
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from sqlalchemy.engine import Connection

    from node.config import Settings

__all__ = ["Sessions", "create_engine", "create_sessions", "transaction"]

Sessions = async_sessionmaker[AsyncSession]

# Long enough to ride out a checkpoint or another process's write, short
# enough that a stuck writer surfaces as an error instead of a hung request.
SQLITE_BUSY_TIMEOUT_MS = 5000


def create_engine(settings: Settings) -> AsyncEngine:
    """An engine for ``settings.database_url``; SQLite connections get our pragmas."""
    if not settings.is_sqlite:
        return create_async_engine(settings.database_url, pool_pre_ping=True)
    engine = create_async_engine(settings.database_url)
    event.listen(engine.sync_engine, "connect", _sqlite_connect)
    event.listen(engine.sync_engine, "begin", _sqlite_begin)
    return engine


def create_sessions(engine: AsyncEngine) -> Sessions:
    """A session factory; objects stay readable after commit (no lazy reload in async code)."""
    return async_sessionmaker(engine, expire_on_commit=False)


@asynccontextmanager
async def transaction(sessions: Sessions) -> AsyncIterator[AsyncSession]:
    """One unit of work: commits when the block ends, rolls back if it raises."""
    async with sessions() as session, session.begin():
        yield session


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    """Per-connection SQLite settings.

    WAL lets readers run during a write; foreign keys are off by default in
    SQLite; the busy timeout makes a second writer wait instead of failing.
    ``synchronous`` stays at its default (FULL): a commit is on disk before
    we answer. Turning off the driver's own transaction handling lets
    :func:`_sqlite_begin` emit BEGIN itself, so reads and writes of one unit of
    work share one transaction (SQLAlchemy docs, "Serializable isolation /
    Savepoints / Transactional DDL" for pysqlite/aiosqlite).
    """
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    finally:
        cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    connection.exec_driver_sql("BEGIN")
