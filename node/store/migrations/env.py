"""Alembic environment: runs migrations on SQLite and PostgreSQL, async engines included.

``node.store.schema`` hands us an open connection (``config.attributes``), so
migrations share the node's engine, pragmas and transaction. Run directly with
the ``alembic`` tool (for ``revision --autogenerate``), it builds an async
engine from ``sqlalchemy.url`` or ``SHARING_CARE_DATABASE_URL``.
"""

from __future__ import annotations

import asyncio
import os

from alembic import context
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from node.store.models import Base


def run_on(connection: Connection) -> None:
    """Run the migrations on an open synchronous connection."""
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        # SQLite cannot ALTER most things; batch mode copies the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_with_url(url: str) -> None:
    """Open our own async engine (the alembic command-line path)."""
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(run_on)
    finally:
        await engine.dispose()


def database_url() -> str:
    """``sqlalchemy.url`` from the Alembic config, else the node's environment variable."""
    url = context.config.get_main_option("sqlalchemy.url") or os.environ.get(
        "SHARING_CARE_DATABASE_URL"
    )
    if not url:
        raise RuntimeError("set sqlalchemy.url or SHARING_CARE_DATABASE_URL")
    return url


def main() -> None:
    """Alembic executes this module; choose offline SQL, a shared connection, or our own."""
    if context.is_offline_mode():
        context.configure(url=database_url(), target_metadata=Base.metadata, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    connection = context.config.attributes.get("connection")
    if isinstance(connection, Connection):
        run_on(connection)
    else:
        asyncio.run(run_with_url(database_url()))


main()
