"""What request handlers reach through ``request.state``: one typed object per process."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine
    from starlette.requests import Request

    from node.config import Settings
    from node.keyring import Keyring
    from node.remote.actors import RemoteActors
    from node.store.db import Sessions

__all__ = ["AppState", "app_state"]


@dataclass(frozen=True, slots=True)
class AppState:
    """Built by the app's lifespan (``node.app``); lives as long as the process serves."""

    settings: Settings
    engine: AsyncEngine
    sessions: Sessions
    keyring: Keyring
    version: str
    remote: RemoteActors  # cached remote actors and keys, and the signed fetcher


def app_state(request: Request) -> AppState:
    """The process's :class:`AppState` (Starlette copies lifespan state into each request)."""
    state = request.state.app
    if not isinstance(state, AppState):
        raise TypeError("request.state.app is not an AppState: was the lifespan run?")
    return state
