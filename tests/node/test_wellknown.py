"""Discovery endpoints: WebFinger, NodeInfo, host-meta (in-process, over httpx)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING

import pytest

from protocol.nodeinfo import content_type, validate_nodeinfo
from protocol.webfinger import check_loopback, parse_handle, pick_self_link

if TYPE_CHECKING:
    import httpx

BASE = "http://127.0.0.1:8000"


async def finger(client: httpx.AsyncClient, resource: str) -> httpx.Response:
    return await client.get("/.well-known/webfinger", params={"resource": resource})


@pytest.mark.parametrize(
    ("resource", "actor_id", "subject"),
    [
        ("acct:river@127.0.0.1:8000", f"{BASE}/coop", "acct:river@127.0.0.1:8000"),
        ("@river@127.0.0.1:8000", f"{BASE}/coop", "acct:river@127.0.0.1:8000"),
        ("acct:RIVER@127.0.0.1:8000", f"{BASE}/coop", "acct:river@127.0.0.1:8000"),
        ("acct:ana@127.0.0.1:8000", f"{BASE}/members/ana", "acct:ana@127.0.0.1:8000"),
        (f"{BASE}/members/ana", f"{BASE}/members/ana", "acct:ana@127.0.0.1:8000"),
        ("acct:127.0.0.1@127.0.0.1:8000", f"{BASE}/actor", "acct:127.0.0.1@127.0.0.1:8000"),
    ],
)
async def test_webfinger_finds_local_actors(
    client: httpx.AsyncClient, resource: str, actor_id: str, subject: str
) -> None:
    response = await finger(client, resource)

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/jrd+json"
    assert response.headers["access-control-allow-origin"] == "*"
    jrd = response.json()
    assert jrd["subject"] == subject
    assert pick_self_link(jrd) == actor_id
    # Mastodon's loop-back rule, checked with protocol's own implementation of it
    check_loopback(jrd, parse_handle(subject), actor_id)


async def test_webfinger_server_resource_names_the_application_actor(
    client: httpx.AsyncClient,
) -> None:
    """FEP-d556: resource=<origin>/ discovers the server-level actor."""
    response = await finger(client, f"{BASE}/")
    assert response.status_code == 200
    jrd = response.json()
    assert jrd["subject"] == f"{BASE}/"
    assert pick_self_link(jrd) == f"{BASE}/actor"


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({}, 400),  # missing resource
        ({"resource": ""}, 400),
        ({"resource": "acct:no-at-sign"}, 400),
        ({"resource": "mailto:ana@127.0.0.1:8000"}, 400),
        ({"resource": "acct:nobody@127.0.0.1:8000"}, 404),  # unknown here
        ({"resource": "acct:river@elsewhere.example"}, 404),  # another host
        ({"resource": f"{BASE}/members/nobody"}, 404),
    ],
)
async def test_webfinger_refusals(
    client: httpx.AsyncClient, params: dict[str, str], status: int
) -> None:
    response = await client.get("/.well-known/webfinger", params=params)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    assert set(response.json()) == {"error"}


async def test_nodeinfo_discovery_and_documents(client: httpx.AsyncClient) -> None:
    links = (await client.get("/.well-known/nodeinfo")).json()["links"]
    hrefs = {link["rel"]: link["href"] for link in links}
    assert hrefs["http://nodeinfo.diaspora.software/ns/schema/2.1"] == f"{BASE}/nodeinfo/2.1"
    assert hrefs["http://nodeinfo.diaspora.software/ns/schema/2.0"] == f"{BASE}/nodeinfo/2.0"
    assert hrefs["https://www.w3.org/ns/activitystreams#Application"] == f"{BASE}/actor"

    for version in ("2.1", "2.0"):
        response = await client.get(f"/nodeinfo/{version}")
        assert response.status_code == 200
        assert response.headers["content-type"] == content_type(version)
        document = response.json()
        validate_nodeinfo(document)
        assert document["version"] == version
        assert document["software"]["name"] == "sharing-care"
        assert document["usage"]["users"]["total"] == 1
        assert document["metadata"]["sharingCare"]["coop"] == {
            "name": "River Care",
            "actor": f"{BASE}/coop",
        }
    assert (await client.get("/nodeinfo/1.0")).status_code == 404


async def test_host_meta_points_at_webfinger(client: httpx.AsyncClient) -> None:
    response = await client.get("/.well-known/host-meta")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/xrd+xml"
    link = ET.fromstring(response.text).find("{http://docs.oasis-open.org/ns/xri/xrd-1.0}Link")  # noqa: S314
    assert link is not None
    assert link.get("template") == f"{BASE}/.well-known/webfinger?resource={{uri}}"
    as_json = (await client.get("/.well-known/host-meta.json")).json()
    assert as_json["links"][0]["template"] == link.get("template")


async def test_unknown_paths_and_methods_answer_json(client: httpx.AsyncClient) -> None:
    missing = await client.get("/nowhere")
    assert (missing.status_code, missing.json()) == (404, {"error": "Not Found"})
    wrong = await client.post("/.well-known/webfinger")
    assert wrong.status_code == 405
    assert set(wrong.json()) == {"error"}
