"""``sharing-care init``: a new data directory, its config, a migrated database, the first actors.

All input is checked before anything is written. Once writing starts it is
all or nothing: the schema and the first actors commit in one transaction,
and a failure removes the files this run created.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from node.actions.members import NewMember, check_new_member
from node.actions.setup import create_node
from node.config import CONFIG_FILE, ConfigError, Settings, parse_settings, render_config
from node.errors import AlreadyExists, InvalidInput
from node.store.db import create_engine
from node.store.schema import current_revision, upgrade_in

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime
    from pathlib import Path

    from node.config import TomlValue

__all__ = ["InitRequest", "initialise"]


@dataclass(frozen=True, slots=True)
class InitRequest:
    """What ``sharing-care init`` was asked for."""

    data_dir: Path
    base_url: str
    coop_name: str
    coop_handle: str
    admin: NewMember
    local_dev: bool = False
    database_url: str | None = None

    def file_values(self) -> dict[str, TomlValue]:
        """The settings to write into config.toml."""
        values: dict[str, TomlValue] = {
            "base_url": self.base_url,
            "coop_handle": self.coop_handle,
            "coop_name": self.coop_name,
            "local_dev": self.local_dev,
        }
        if self.database_url is not None:
            values["database_url"] = self.database_url
        return values


async def initialise(request: InitRequest, environ: Mapping[str, str], now: datetime) -> Settings:
    """Create the node described by ``request``; raise a NodeError before writing if it cannot."""
    settings = check(request, environ)
    created_dir = not request.data_dir.exists()
    try:
        request.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        (request.data_dir / CONFIG_FILE).write_text(
            render_config(request.file_values()), encoding="utf-8"
        )
        await _create_database(settings, request.admin, now)
    except BaseException:
        _remove_created(request.data_dir, created_dir)
        raise
    return settings


def check(request: InitRequest, environ: Mapping[str, str]) -> Settings:
    """Every reason ``request`` cannot go ahead, raised at once; nothing is written."""
    problems: list[str] = []
    data_dir = request.data_dir
    if data_dir.exists() and (not data_dir.is_dir() or any(data_dir.iterdir())):
        problems.append(f"{data_dir} exists and is not an empty directory")
    settings = None
    try:
        settings = parse_settings(data_dir, request.file_values(), environ)
    except ConfigError as exc:
        problems.extend(exc.problems)
    problems.extend(check_new_member(request.admin))
    if request.admin.username == request.coop_handle:
        problems.append("the admin's username must differ from the co-op handle")
    if problems or settings is None:
        raise InvalidInput("; ".join(problems))
    return settings


async def _create_database(settings: Settings, admin: NewMember, now: datetime) -> None:
    engine = create_engine(settings)
    try:
        if await current_revision(engine) is not None:
            raise AlreadyExists("the database is already initialised; use an empty one")
        async with engine.begin() as connection:
            await upgrade_in(connection)
            session = AsyncSession(bind=connection, expire_on_commit=False)
            try:
                await create_node(session, settings, admin, now)
                await session.flush()
            finally:
                await session.close()
    finally:
        await engine.dispose()


def _remove_created(data_dir: Path, created_dir: bool) -> None:
    """Undo a failed init: the directory if we made it, else what we put in it (it was empty)."""
    if created_dir:
        shutil.rmtree(data_dir, ignore_errors=True)
        return
    for entry in data_dir.iterdir():
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
