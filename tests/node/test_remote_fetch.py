"""node.remote.fetch: signed GETs under Mastodon's limits, against a real loopback server."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import aiohttp
import pytest
from fediverse import FakeServer, rsa_key

from node.remote.actors import RemoteActors
from node.remote.dns import CheckedResolver
from node.remote.fetch import Fetcher, FetchPolicy, RemoteError, strip_fragment
from node.store.db import create_engine, create_sessions
from protocol.errors import UnsafeURL
from protocol.http import HttpRequest
from protocol.httpsig import parse_signature, verify
from protocol.keys import SigningKey
from protocol.safety import MAX_ACTIVITY_BYTES

if TYPE_CHECKING:
    import socket
    from collections.abc import AsyncIterator

    from node.config import Settings

LOCAL_DEV = FetchPolicy(allow_http=True, allow_private=True)
AS_JSON = "application/activity+json"


@pytest.fixture
async def remote() -> AsyncIterator[FakeServer]:
    server = FakeServer()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def serve(server: FakeServer, path: str, document: Any, status: int = 200, **kw: Any) -> str:
    content_type = kw.pop("content_type", AS_JSON)
    body = document if isinstance(document, bytes) else json.dumps(document).encode()
    server.custom[path] = (status, content_type, body, kw.pop("headers", {}))
    return f"{server.base}{path}"


async def test_get_is_signed_by_the_given_key(
    remote: FakeServer, http: aiohttp.ClientSession
) -> None:
    alice = remote.actor("alice")
    key = SigningKey("http://127.0.0.1:8000/actor#main-key", rsa_key("app").key)
    fetcher = Fetcher(http, LOCAL_DEV, key)

    actor = await fetcher.actor(alice.iri)

    assert actor.id == alice.iri
    headers = remote.get_headers[0]
    assert headers["accept"].startswith("application/activity+json")
    request = HttpRequest.build("GET", alice.iri, headers)
    params = parse_signature(request)
    assert params.key_id == key.id
    verify(request, params, key.public("http://127.0.0.1:8000/actor"), now=datetime.now(UTC))


async def test_document_whose_id_is_not_the_url_is_refused(
    remote: FakeServer, http: aiohttp.ClientSession
) -> None:
    url = serve(remote, "/notes/1", {"id": "https://elsewhere.example/notes/1", "type": "Note"})
    with pytest.raises(RemoteError, match="id is not"):
        await Fetcher(http, LOCAL_DEV, None).document(url)


async def test_response_over_1_mb_is_refused(
    remote: FakeServer, http: aiohttp.ClientSession
) -> None:
    url = f"{remote.base}/big"
    serve(remote, "/big", {"id": url, "pad": "x" * MAX_ACTIVITY_BYTES})
    with pytest.raises(RemoteError, match="over the limit"):
        await Fetcher(http, LOCAL_DEV, None).document(url)


@pytest.mark.parametrize("status", [404, 410, 500])
async def test_error_status_is_a_remote_error(
    remote: FakeServer, http: aiohttp.ClientSession, status: int
) -> None:
    url = serve(remote, "/x", {"error": "no"}, status=status)
    with pytest.raises(RemoteError, match=str(status)):
        await Fetcher(http, LOCAL_DEV, None).document(url)


async def test_html_answer_is_refused(remote: FakeServer, http: aiohttp.ClientSession) -> None:
    url = serve(remote, "/page", b"<html></html>", content_type="text/html")
    with pytest.raises(RemoteError, match="not JSON"):
        await Fetcher(http, LOCAL_DEV, None).document(url)


async def test_three_redirects_are_followed_and_a_fourth_is_not(
    remote: FakeServer, http: aiohttp.ClientSession
) -> None:
    final = serve(remote, "/r0", {"id": f"{remote.base}/r3", "type": "Note"})
    for hop in range(1, 5):
        serve(remote, f"/r{hop}", b"", status=302, headers={"Location": f"/r{hop - 1}"})
    fetcher = Fetcher(http, LOCAL_DEV, None)

    document = await fetcher.document(f"{remote.base}/r3")  # r3 → r2 → r1 → r0
    assert document["id"] == f"{remote.base}/r3"
    assert final.endswith("/r0")
    with pytest.raises(RemoteError, match="redirected more than 3"):
        await fetcher.document(f"{remote.base}/r4")


async def test_redirect_to_another_scheme_is_refused(
    remote: FakeServer, http: aiohttp.ClientSession
) -> None:
    url = serve(remote, "/r", b"", status=302, headers={"Location": "file:///etc/passwd"})
    with pytest.raises(RemoteError, match="scheme"):
        await Fetcher(http, LOCAL_DEV, None).document(url)


async def test_loopback_and_http_are_refused_outside_local_development(
    remote: FakeServer, http: aiohttp.ClientSession
) -> None:
    alice = remote.actor("alice")
    with pytest.raises(RemoteError, match="scheme"):
        await Fetcher(http, FetchPolicy(), None).actor(alice.iri)
    with pytest.raises(RemoteError, match="loopback"):
        await Fetcher(http, FetchPolicy(allow_http=True), None).actor(alice.iri)
    assert remote.gets == []


async def test_key_document_leads_to_its_owner(
    remote: FakeServer, http: aiohttp.ClientSession
) -> None:
    # GoToSocial: the key id is a separate document naming its owner
    alice = remote.actor("alice")
    key_id = f"{alice.iri}/main-key"
    serve(remote, "/users/alice/main-key", {"id": key_id, "owner": alice.iri, "publicKeyPem": ""})

    owner = await Fetcher(http, LOCAL_DEV, None).key_owner(key_id)

    assert owner.id == alice.iri
    assert remote.gets == ["/users/alice/main-key", "/users/alice"]


async def test_fragment_key_id_fetches_the_actor(
    remote: FakeServer, http: aiohttp.ClientSession
) -> None:
    alice = remote.actor("alice")
    owner = await Fetcher(http, LOCAL_DEV, None).key_owner(alice.key_id)
    assert owner.id == alice.iri
    assert strip_fragment(alice.key_id) == alice.iri


async def test_lookup_follows_webfinger_to_the_actor(
    remote: FakeServer, http: aiohttp.ClientSession
) -> None:
    alice = remote.actor("alice")
    host = remote.base.removeprefix("http://")
    actor = await Fetcher(http, LOCAL_DEV, None).lookup(f"@alice@{host}")
    assert actor.id == alice.iri


class _Answers:
    """A stand-in for aiohttp's resolver that answers fixed addresses."""

    def __init__(self, *addresses: str) -> None:
        self.addresses = addresses

    async def resolve(self, host: str, port: int, family: socket.AddressFamily) -> list[Any]:
        return [{"host": address, "hostname": host, "port": port} for address in self.addresses]

    async def close(self) -> None:
        return None


@pytest.mark.parametrize(
    ("answers", "allowed"),
    [
        (("93.184.215.14",), True),
        (("93.184.215.14", "10.0.0.5"), False),  # one private answer refuses the lot
        (("169.254.169.254",), False),  # cloud metadata
        (("::1",), False),
    ],
)
async def test_resolver_refuses_private_answers(answers: tuple[str, ...], allowed: bool) -> None:
    resolver = CheckedResolver()
    resolver._inner = _Answers(*answers)  # type: ignore[assignment]
    if allowed:
        assert len(await resolver.resolve("coop.example", 443)) == len(answers)
    else:
        with pytest.raises(UnsafeURL):
            await resolver.resolve("coop.example", 443)
    await resolver.close()


async def test_resolver_allows_private_answers_in_local_development() -> None:
    resolver = CheckedResolver(allow_private=True)
    resolver._inner = _Answers("127.0.0.1")  # type: ignore[assignment]
    assert len(await resolver.resolve("localhost", 80)) == 1


# -- the remote actor cache ------------------------------------------------------------------


@pytest.fixture
async def directory(settings: Settings, http: aiohttp.ClientSession) -> AsyncIterator[RemoteActors]:
    engine = create_engine(settings)
    yield RemoteActors(create_sessions(engine), Fetcher(http, LOCAL_DEV, None), settings.base_url)
    await engine.dispose()


async def test_cached_actor_is_fetched_once_a_day(
    remote: FakeServer, directory: RemoteActors
) -> None:
    alice = remote.actor("alice")
    now = datetime.now(UTC)

    first = await directory.actor(alice.iri, now)
    again = await directory.actor(alice.iri, now + timedelta(hours=23))
    assert (first.iri, again.iri) == (alice.iri, alice.iri)
    assert remote.fetches_of(alice) == 1

    await directory.actor(alice.iri, now + timedelta(hours=25))
    assert remote.fetches_of(alice) == 2


async def test_stale_copy_serves_while_the_actor_cannot_be_fetched(
    remote: FakeServer, directory: RemoteActors
) -> None:
    alice = remote.actor("alice")
    now = datetime.now(UTC)
    await directory.actor(alice.iri, now)
    remote.gone.add("/users/alice")

    stale = await directory.actor(alice.iri, now + timedelta(days=2))

    assert stale.iri == alice.iri
    with pytest.raises(RemoteError, match="404"):  # nothing cached: the failure shows
        await directory.actor(f"{remote.base}/users/nobody", now)


async def test_local_actors_are_never_fetched(remote: FakeServer, directory: RemoteActors) -> None:
    with pytest.raises(RemoteError, match="on this node"):
        await directory.actor("http://127.0.0.1:8000/coop", datetime.now(UTC))
    with pytest.raises(RemoteError, match="own key"):
        await directory.refetch_key("http://127.0.0.1:8000/coop#main-key", datetime.now(UTC))
    assert remote.gets == []


async def test_unknown_key_is_fetched_with_its_owner_and_then_served_from_the_cache(
    remote: FakeServer, directory: RemoteActors
) -> None:
    alice = remote.actor("alice")
    now = datetime.now(UTC)

    found = await directory.key_for(alice.key_id, now)
    cached = await directory.key_for(alice.key_id, now)

    assert (found.fresh, cached.fresh) == (True, False)
    assert cached.key.owner == alice.iri
    assert cached.key.pem() == found.key.pem()
    assert remote.fetches_of(alice) == 1
