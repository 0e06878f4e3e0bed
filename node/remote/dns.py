"""A DNS resolver for aiohttp that refuses answers pointing into private address space.

:func:`protocol.safety.check_url` only sees names; a public name can still
resolve to 127.0.0.1 or 169.254.169.254 (DNS rebinding). aiohttp asks its
resolver before every new connection and connects only to the addresses it
returns, so checking here means what was checked is what is connected to.
"""

from __future__ import annotations

import socket
from typing import TYPE_CHECKING

from aiohttp.abc import AbstractResolver
from aiohttp.resolver import DefaultResolver

from protocol.safety import check_resolved

if TYPE_CHECKING:
    from aiohttp.abc import ResolveResult

__all__ = ["CheckedResolver"]


class CheckedResolver(AbstractResolver):
    """aiohttp's default resolver, with every answer passed through ``check_resolved``."""

    def __init__(self, *, allow_private: bool = False) -> None:
        self._inner = DefaultResolver()
        self._allow_private = allow_private

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        """Resolve ``host``; raise :class:`~protocol.errors.UnsafeURL` on any private answer."""
        answers = await self._inner.resolve(host, port, family)
        check_resolved((answer["host"] for answer in answers), allow_private=self._allow_private)
        return answers

    async def close(self) -> None:
        """Release the wrapped resolver."""
        await self._inner.close()
