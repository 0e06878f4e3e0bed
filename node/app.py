"""The ASGI application: ``create_app(settings)`` wires settings, database, keys and routes.

Nothing is opened at import. The lifespan opens the engine, refuses a schema
that is not at head, loads the signing keys once, runs the delivery worker
(unless ``run_worker_in_serve`` is off), and closes it all on shutdown.
uvicorn workers build the app through :func:`app_from_environ`.
"""

from __future__ import annotations

import os
from contextlib import asynccontextmanager
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING

from starlette.applications import Starlette

from node.config import ENV_PREFIX, load_settings
from node.errors import ConfigError
from node.iris import application_iris
from node.keyring import load_keyring
from node.outbound.service import in_serve
from node.remote.actors import RemoteActors
from node.remote.fetch import open_fetcher
from node.store.db import create_engine, create_sessions
from node.store.schema import ensure_at_head
from node.web.errors import exception_handlers
from node.web.routes import ROUTES
from node.web.state import AppState

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from node.config import Settings

__all__ = ["DATA_DIR_ENV", "app_from_environ", "create_app"]

# Set by `sharing-care serve` so every uvicorn worker process finds the same node.
DATA_DIR_ENV = ENV_PREFIX + "DATA_DIR"


def create_app(settings: Settings) -> Starlette:
    """A Starlette app serving the node described by ``settings``."""

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[dict[str, AppState]]:
        engine = create_engine(settings)
        try:
            await ensure_at_head(engine)
            sessions = create_sessions(engine)
            keyring = await load_keyring(sessions)
            app_key = keyring.signing_key(application_iris(settings.base_url).id)
            async with (
                open_fetcher(settings, app_key) as fetcher,
                in_serve(settings, sessions, keyring),  # the delivery worker
            ):
                remote = RemoteActors(sessions, fetcher, settings.base_url)
                state = AppState(settings, engine, sessions, keyring, _software_version(), remote)
                yield {"app": state}
        finally:
            await engine.dispose()

    return Starlette(
        routes=ROUTES,
        exception_handlers=exception_handlers(),
        lifespan=lifespan,
    )


def app_from_environ() -> Starlette:
    """uvicorn's app factory: settings from ``SHARING_CARE_DATA_DIR`` and the environment."""
    data_dir = os.environ.get(DATA_DIR_ENV)
    if not data_dir:
        raise ConfigError([f"{DATA_DIR_ENV} is not set (start the node with `sharing-care serve`)"])
    return create_app(load_settings(Path(data_dir), os.environ))


def _software_version() -> str:
    try:
        return version("sharing-care")
    except PackageNotFoundError:  # running from a checkout that was never installed
        return "0.0.0"
