"""The one HTTP client deliveries share, sized for fan-out.

aiohttp, not httpx: on this machine one ``httpx.AsyncClient`` managed ~450
POSTs/s against aiohttp's ~13,900/s (issue 3, bench notes), and fan-out is
where the node spends its network time. DNS answers pass through
:class:`~node.remote.dns.CheckedResolver`, so a public name that resolves to a
private address is refused (local development allows loopback peers).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

import aiohttp

from node.outbound.deliver import TIMEOUT
from node.remote.dns import CheckedResolver

if TYPE_CHECKING:
    from node.config import Settings

__all__ = ["CONNECTIONS", "USER_AGENT", "create_client"]

# Open connections across all peers; the worker's concurrency stays below it,
# so no request waits for a pool slot (that wait would count against connect).
CONNECTIONS: Final = 512
USER_AGENT: Final = "sharing-care (+https://w3id.org/sharing-care)"


def create_client(settings: Settings, *, connections: int = CONNECTIONS) -> aiohttp.ClientSession:
    """A client session for deliveries; call inside the running event loop, close when done."""
    connector = aiohttp.TCPConnector(
        limit=connections,
        limit_per_host=0,  # the worker caps per-domain concurrency itself
        ttl_dns_cache=300,
        resolver=CheckedResolver(allow_private=settings.local_dev),
    )
    return aiohttp.ClientSession(
        connector=connector,
        timeout=TIMEOUT,
        headers={"User-Agent": f"{USER_AGENT} {settings.base_url}"},
        cookie_jar=aiohttp.DummyCookieJar(),  # peers do not get to set state in us
        trust_env=False,
        auto_decompress=False,
    )
