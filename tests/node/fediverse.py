"""A small fake fediverse for inbox tests: remote actors served over real HTTP on loopback.

The node under test (local development mode) fetches keys and actors from
:class:`FakeServer` exactly as it would from Mastodon: signed GETs of the
key id, WebFinger, actor documents. Tests sign activities with the remote
actors' keys (:func:`post_signed`) and read what the node stored
(:func:`stored`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from aiohttp import web
from sqlalchemy import func, select

from node.store.db import create_engine, create_sessions
from node.store.models import (
    ActorKey,
    Block,
    Delivery,
    Follow,
    InboxLog,
    OutgoingActivity,
    Report,
)
from protocol.http import HttpRequest
from protocol.httpsig import sign_cavage
from protocol.keys import SigningKey, generate_rsa, public_key_document
from protocol.serialize import dumps
from protocol.vocab import ACTIVITYSTREAMS, SECURITY_V1

if TYPE_CHECKING:
    import httpx

    from node.config import Settings

AS_JSON = "application/activity+json"
_KEYS: dict[str, SigningKey] = {}


def rsa_key(name: str) -> SigningKey:
    """One RSA key per name per test session (generating them is the slow part)."""
    if name not in _KEYS:
        _KEYS[name] = generate_rsa(f"urn:test:{name}")
    return _KEYS[name]


@dataclass
class FakeActor:
    """A Person on the fake server, with the key it signs with."""

    server: FakeServer
    name: str
    key: SigningKey

    @property
    def iri(self) -> str:
        return f"{self.server.base}/users/{self.name}"

    @property
    def key_id(self) -> str:
        return f"{self.iri}#main-key"

    @property
    def signing_key(self) -> SigningKey:
        """The key as a signature names it (``<actor>#main-key``)."""
        return SigningKey(self.key_id, self.key.key)

    def document(self) -> dict[str, Any]:
        public = SigningKey(self.key_id, self.key.key).public(self.iri)
        return {
            "@context": [ACTIVITYSTREAMS, SECURITY_V1],
            "id": self.iri,
            "type": "Person",
            "preferredUsername": self.name,
            "inbox": f"{self.iri}/inbox",
            "outbox": f"{self.iri}/outbox",
            "followers": f"{self.iri}/followers",
            "endpoints": {"sharedInbox": f"{self.server.base}/inbox"},
            "publicKey": public_key_document(public),
        }

    def activity(self, kind: str, obj: Any, suffix: str, **extra: Any) -> dict[str, Any]:
        """An activity by this actor with id ``<actor>/activities/<suffix>``."""
        return {
            "@context": ACTIVITYSTREAMS,
            "id": f"{self.iri}/activities/{suffix}",
            "type": kind,
            "actor": self.iri,
            "object": obj,
            **extra,
        }

    def rotate(self, new_key: SigningKey) -> None:
        """Publish a new key under the same key id (what a key rotation looks like)."""
        self.key = new_key
        self.server.publish(self)


@dataclass
class FakeServer:
    """Serves registered actors (GET), WebFinger, and records every request."""

    base: str = ""
    documents: dict[str, dict[str, Any]] = field(default_factory=dict)
    gone: set[str] = field(default_factory=set)
    # path -> (status, content type, body, extra headers): anything a test wants served
    custom: dict[str, tuple[int, str, bytes, dict[str, str]]] = field(default_factory=dict)
    gets: list[str] = field(default_factory=list)
    get_headers: list[dict[str, str]] = field(default_factory=list)
    posts: list[tuple[str, bytes]] = field(default_factory=list)
    _runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("GET", "/{tail:.*}", self._get)
        app.router.add_route("POST", "/{tail:.*}", self._post)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def actor(self, name: str, key_name: str | None = None) -> FakeActor:
        """Register and serve a Person called ``name``."""
        actor = FakeActor(self, name, rsa_key(key_name or name))
        self.publish(actor)
        return actor

    def publish(self, actor: FakeActor) -> None:
        self.documents[urlsplit(actor.iri).path] = actor.document()

    def fetches_of(self, actor: FakeActor) -> int:
        """How many times the node fetched ``actor``'s document."""
        path = urlsplit(actor.iri).path
        return sum(1 for got in self.gets if got == path)

    async def _get(self, request: web.Request) -> web.Response:
        self.gets.append(request.path)
        self.get_headers.append({k.lower(): v for k, v in request.headers.items()})
        if request.path in self.custom:
            status, content_type, body, headers = self.custom[request.path]
            return web.Response(
                status=status, body=body, content_type=content_type, headers=headers
            )
        if request.path in self.gone:
            return web.json_response({"error": "gone"}, status=410)
        if request.path == "/.well-known/webfinger":
            return self._webfinger(request.query.get("resource", ""))
        document = self.documents.get(request.path)
        if document is None:
            return web.json_response({"error": "not found"}, status=404)
        return web.Response(body=json.dumps(document), content_type=AS_JSON)

    def _webfinger(self, resource: str) -> web.Response:
        name = resource.removeprefix("acct:").split("@", 1)[0]
        iri = f"{self.base}/users/{name}"
        if urlsplit(iri).path not in self.documents:
            return web.json_response({"error": "not found"}, status=404)
        host = urlsplit(self.base).netloc
        jrd = {
            "subject": f"acct:{name}@{host}",
            "links": [{"rel": "self", "type": AS_JSON, "href": iri}],
        }
        return web.json_response(jrd, content_type="application/jrd+json")

    async def _post(self, request: web.Request) -> web.Response:
        self.posts.append((request.path, await request.read()))
        return web.Response(status=202)


async def post_signed(
    client: httpx.AsyncClient,
    path: str,
    activity: dict[str, Any] | None,
    key: SigningKey | None,
    *,
    now: datetime | None = None,
    body: bytes | None = None,
    content_type: str = AS_JSON,
) -> httpx.Response:
    """POST ``activity`` (or raw ``body``) to ``path``, signed draft-cavage as Mastodon signs."""
    data = body if body is not None else dumps(activity or {})
    headers = {"content-type": content_type}
    if key is not None:
        request = HttpRequest.build("POST", f"{client.base_url}{path}", headers, data)
        headers.update(sign_cavage(request, key, now=now or datetime.now(UTC)))
    return await client.post(path, content=data, headers=headers)


TABLES = {
    "inbox_log": InboxLog,
    "follows": Follow,
    "reports": Report,
    "blocks": Block,
    "outgoing": OutgoingActivity,
    "deliveries": Delivery,
    "keys": ActorKey,
}


async def stored(settings: Settings) -> dict[str, int]:
    """Row counts of every table the inbox can write to."""
    engine = create_engine(settings)
    try:
        async with create_sessions(engine)() as session:
            return {
                name: await session.scalar(select(func.count()).select_from(model)) or 0
                for name, model in TABLES.items()
            }
    finally:
        await engine.dispose()


async def rows(settings: Settings, model: type[Any]) -> list[Any]:
    """Every row of ``model``'s table, oldest first."""
    engine = create_engine(settings)
    try:
        async with create_sessions(engine)() as session:
            return list(await session.scalars(select(model).order_by(model.id)))
    finally:
        await engine.dispose()
