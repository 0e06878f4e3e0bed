"""Signed GETs of remote actors and objects, and WebFinger lookups of ``@name@host``.

Everything fetched is chosen by a stranger, so every request is guarded the
way Mastodon guards its own (anchors.md §4.3, app/lib/request.rb): https only
and no private addresses (both relaxed only in local development), DNS
answers checked before connecting (:mod:`node.remote.dns`), 5 s to connect and
10 s in all, at most 1 MB read, at most three redirects, each re-checked. A
fetched document's ``id`` must equal the URL asked for (jsonld_helper.rb
``fetch_resource``): a server can only speak for its own URLs. GETs are
signed by the node's Application actor (FEP-2677), so servers in
authorized-fetch mode answer.
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urljoin, urlsplit, urlunsplit

import aiohttp

from node.config import is_loopback_host
from node.errors import NodeError
from node.remote.dns import CheckedResolver
from protocol.errors import ParseError, ProtocolError, TooLarge, UnsafeURL, WebFingerError
from protocol.http import HttpRequest
from protocol.httpsig import sign_cavage
from protocol.parse import parse_actor
from protocol.safety import MAX_ACTIVITY_BYTES, check_size, check_url, decode_json
from protocol.vocab import ActorType, MediaType
from protocol.webfinger import Handle, check_loopback, parse_handle, pick_self_link, webfinger_url

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable

    from node.config import Settings
    from protocol.keys import SigningKey
    from protocol.objects import Actor

__all__ = [
    "ACCEPT_ACTIVITY",
    "FetchPolicy",
    "Fetcher",
    "RemoteError",
    "open_fetcher",
    "strip_fragment",
]

# Mastodon's fetch Accept header (jsonld_helper.rb#build_request).
ACCEPT_ACTIVITY: Final = f"{MediaType.ACTIVITY_JSON.value}, {MediaType.LD_JSON.value}"
_ACCEPT_JRD: Final = "application/jrd+json, application/json"
_AS_TYPES: Final = frozenset(
    {"application/activity+json", "application/ld+json", "application/json"}
)
_JRD_TYPES: Final = frozenset({"application/jrd+json", "application/json"})
_REDIRECTS: Final = frozenset({301, 302, 303, 307, 308})
_ACTOR_TYPES: Final = frozenset(t.value for t in ActorType)
USER_AGENT: Final = "sharing-care (+https://w3id.org/sharing-care)"


class RemoteError(NodeError):
    """A remote document could not be fetched, or is not what was asked for."""


@dataclass(frozen=True, slots=True)
class FetchPolicy:
    """Limits for one fetch; ``allow_http``/``allow_private`` only in local development."""

    allow_http: bool = False
    allow_private: bool = False
    max_bytes: int = MAX_ACTIVITY_BYTES
    connect_timeout: float = 5.0
    total_timeout: float = 10.0
    max_redirects: int = 3

    @classmethod
    def for_settings(cls, settings: Settings) -> FetchPolicy:
        """The node's policy: local development may talk to http:// loopback peers."""
        return cls(allow_http=settings.local_dev, allow_private=settings.local_dev)


def strip_fragment(url: str) -> str:
    """``url`` without its ``#fragment``: what a key id like ``actor#main-key`` is fetched at."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, parts.query, ""))


def _utcnow() -> datetime:
    return datetime.now(UTC)


class Fetcher:
    """GETs ActivityPub documents and JRDs through one aiohttp session, under a policy."""

    def __init__(
        self,
        http: aiohttp.ClientSession,
        policy: FetchPolicy,
        key: SigningKey | None,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self._http = http
        self._policy = policy
        self._key = key
        self._clock = clock

    async def document(self, url: str) -> dict[str, Any]:
        """The JSON document at ``url``, whose ``id`` must be exactly ``url``."""
        body = await self._get(url, ACCEPT_ACTIVITY, _AS_TYPES, signed=True)
        document = _decode(body, url)
        if document.get("id") != url:
            raise RemoteError(f"{url} answered a document whose id is not {url}")
        return document

    async def actor(self, url: str) -> Actor:
        """The actor at ``url`` (Mastodon's five actor types)."""
        return _as_actor(await self.document(url), url)

    async def key_owner(self, key_id: str) -> Actor:
        """The actor controlling ``key_id``: the document at the key id, or its ``owner``.

        Mastodon key ids are ``actor#main-key`` (the actor document answers);
        GoToSocial serves ``actor/main-key`` as a key document naming ``owner``.
        """
        url = strip_fragment(key_id)
        body = await self._get(url, ACCEPT_ACTIVITY, _AS_TYPES, signed=True)
        document = _decode(body, url)
        if document.get("id") not in (url, key_id):
            raise RemoteError(f"{url} answered a document whose id is not {url}")
        types = document.get("type")
        names = types if isinstance(types, list) else [types]
        if any(name in _ACTOR_TYPES for name in names):
            return _as_actor(document, url)
        owner = document.get("owner")
        if not isinstance(owner, str):
            raise RemoteError(f"{url} is neither an actor nor a key naming its owner")
        return await self.actor(owner)

    async def lookup(self, text: str) -> Actor:
        """Resolve a handle (``@name@host``) to its actor, with Mastodon's loop-back check."""
        handle = parse_handle(text)
        jrd = await self.webfinger(handle)
        try:
            actor = await self.actor(pick_self_link(jrd))
            await self._loops_back(jrd, handle, actor)
        except WebFingerError as exc:
            raise RemoteError(f"{handle}: {exc}") from None
        return actor

    async def webfinger(self, handle: Handle) -> dict[str, Any]:
        """The JRD for ``handle`` (unsigned, as Mastodon queries WebFinger)."""
        host = urlsplit(f"//{handle.host}").hostname or handle.host
        local = self._policy.allow_http and is_loopback_host(host)
        url = webfinger_url(handle, "http" if local else "https")
        return _decode(await self._get(url, _ACCEPT_JRD, _JRD_TYPES, signed=False), url)

    async def _loops_back(self, jrd: dict[str, Any], handle: Handle, actor: Actor) -> None:
        """fetch_remote_actor_service.rb#check_webfinger!, step for step.

        WebFinger on ``preferredUsername@<actor host>`` must name that account
        and link to the actor; or name one other account (a vanity domain),
        whose own WebFinger names itself and links to the actor.
        """
        if not actor.preferred_username:
            raise WebFingerError(f"{actor.id} has no preferredUsername")
        asked = Handle(actor.preferred_username, urlsplit(actor.id).netloc.lower())
        first = jrd if _same(asked, handle) else await self.webfinger(asked)
        named = _subject(first)
        if _same(named, asked):
            check_loopback(first, named, actor.id)
            return
        check_loopback(await self.webfinger(named), named, actor.id)

    async def _get(self, url: str, accept: str, media: frozenset[str], *, signed: bool) -> bytes:
        """GET ``url`` following up to ``max_redirects`` checked redirects; the 200 body."""
        target = url
        for _ in range(self._policy.max_redirects + 1):
            try:
                safe = check_url(
                    target,
                    allow_http=self._policy.allow_http,
                    allow_private=self._policy.allow_private,
                )
                status, location, body = await self._once(safe.url, accept, media, signed)
            except (aiohttp.ClientError, TimeoutError) as exc:
                raise RemoteError(f"{url} could not be fetched: {type(exc).__name__}") from None
            except (UnsafeURL, TooLarge) as exc:
                raise RemoteError(f"{url} was not fetched: {exc}") from None
            if status not in _REDIRECTS:
                return body
            target = urljoin(safe.url, location)
        raise RemoteError(f"{url} redirected more than {self._policy.max_redirects} times")

    async def _once(
        self, url: str, accept: str, media: frozenset[str], signed: bool
    ) -> tuple[int, str, bytes]:
        headers = {"accept": accept, "user-agent": USER_AGENT}
        if signed and self._key is not None:
            request = HttpRequest.build("GET", url, headers)
            headers.update(sign_cavage(request, self._key, now=self._clock()))
        async with self._http.get(url, headers=headers, allow_redirects=False) as response:
            if response.status in _REDIRECTS:
                return response.status, response.headers.get("location", ""), b""
            if response.status != 200:
                raise RemoteError(f"{url} answered {response.status}")
            if response.content_type not in media:
                raise RemoteError(f"{url} answered {response.content_type}, not JSON")
            if response.content_length is not None:
                check_size("response body", response.content_length, self._policy.max_bytes)
            return 200, "", await _read_capped(response, self._policy.max_bytes)


async def _read_capped(response: aiohttp.ClientResponse, limit: int) -> bytes:
    """The body, refusing it as soon as it passes ``limit`` (a length header may lie)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_chunked(65536):
        size += len(chunk)
        check_size("response body", size, limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _same(one: Handle, other: Handle) -> bool:
    return (one.name.lower(), one.host) == (other.name.lower(), other.host)


def _subject(jrd: dict[str, Any]) -> Handle:
    subject = jrd.get("subject")
    if not isinstance(subject, str):
        raise WebFingerError("JRD has no 'subject'")
    return parse_handle(subject)


def _decode(body: bytes, url: str) -> dict[str, Any]:
    try:
        return decode_json(body)
    except ProtocolError as exc:
        raise RemoteError(f"{url} did not answer usable JSON: {exc}") from None


def _as_actor(document: dict[str, Any], url: str) -> Actor:
    try:
        return parse_actor(document)
    except ParseError as exc:
        raise RemoteError(f"{url} is not an actor we accept: {exc}") from None


@asynccontextmanager
async def open_fetcher(
    settings: Settings, key: SigningKey | None, clock: Callable[[], datetime] = _utcnow
) -> AsyncIterator[Fetcher]:
    """A :class:`Fetcher` with its own aiohttp session, closed when the block ends."""
    policy = FetchPolicy.for_settings(settings)
    connector = aiohttp.TCPConnector(
        resolver=CheckedResolver(allow_private=policy.allow_private), limit=100, ttl_dns_cache=60
    )
    timeout = aiohttp.ClientTimeout(total=policy.total_timeout, sock_connect=policy.connect_timeout)
    async with aiohttp.ClientSession(
        connector=connector, timeout=timeout, auto_decompress=True, trust_env=False
    ) as http:
        yield Fetcher(http, policy, key, clock)
