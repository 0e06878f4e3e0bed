"""Shared helpers for node tests (imported by conftest.py and test modules)."""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

import httpx
import pytest

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from starlette.applications import Starlette
    from starlette.types import Receive, Scope, Send

POSTGRES_ENV = "SHARING_CARE_TEST_POSTGRES"
POSTGRES_EXAMPLE = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
ADMIN_PASSWORD = "correct horse battery staple"
TEMPLATE_BASE_URL = "http://127.0.0.1:8000"

# The databases every storage test runs on (see `database_url`).
DATABASES = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)]


def init_argv(data_dir: Path, password_file: Path, base_url: str = TEMPLATE_BASE_URL) -> list[str]:
    """`sharing-care init` arguments for the River Care test co-op."""
    return [
        "init",
        "--data-dir",
        str(data_dir),
        "--base-url",
        base_url,
        "--name",
        "River Care",
        "--handle",
        "river",
        "--local-dev",
        "--admin",
        "ana",
        "--admin-password-file",
        str(password_file),
    ]


@asynccontextmanager
async def serving(app: Starlette, base_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """Run ``app``'s lifespan and give an httpx client talking to it in-process.

    httpx's ASGITransport does not run lifespans, so this does, and passes the
    lifespan state into each request scope the way uvicorn does.
    """
    async with app.router.lifespan_context(app) as state:

        async def with_state(scope: Scope, receive: Receive, send: Send) -> None:
            await app({**scope, "state": dict(state or {})}, receive, send)

        transport = httpx.ASGITransport(app=with_state)
        async with httpx.AsyncClient(transport=transport, base_url=base_url) as client:
            yield client
