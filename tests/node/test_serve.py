"""A real node process: `sharing-care init`, then `sharing-care serve` under uvicorn.

Fetched the way Mastodon does it: WebFinger for the co-op's handle, the JRD's
``self`` link, then the actor with an ActivityPub Accept header; the actor's
``id`` must equal the ``self`` href (fetch_remote_actor_service.rb loop-back).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest
from nodekit import DATABASES, init_argv

from protocol.keys import check_key_owner, read_public_key_document
from protocol.webfinger import check_loopback, parse_handle, pick_self_link

if TYPE_CHECKING:
    from collections.abc import Iterator

STARTUP_SECONDS = 30.0
SHARING_CARE = Path(sys.executable).with_name("sharing-care")


def free_port() -> int:
    """A loopback port nobody listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_until_ready(process: subprocess.Popen[bytes], url: str, log: Path) -> None:
    """Poll ``url`` until it answers, the process dies, or the deadline passes."""
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"serve exited with {process.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(url, timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    pytest.fail(f"serve was not ready within {STARTUP_SECONDS}s:\n{log.read_text()}")


@pytest.fixture(params=DATABASES)
def served(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A node initialised and served in its own process; yields its base URL."""
    assert SHARING_CARE.exists(), f"console script missing: {SHARING_CARE} (pip install -e .)"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHARING_CARE_")}
    if request.param == "postgresql":
        env["SHARING_CARE_DATABASE_URL"] = request.getfixturevalue("postgres_url")
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    data_dir, password = tmp_path / "node", tmp_path / "password"
    password.write_text("a password for the served node", encoding="utf-8")
    subprocess.run(  # noqa: S603 (our own console script)
        [SHARING_CARE, *init_argv(data_dir, password, base_url)],
        env=env,
        check=True,
        timeout=120,
        capture_output=True,
    )
    log = tmp_path / "serve.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(  # noqa: S603
            [SHARING_CARE, "serve", "--data-dir", str(data_dir), "--port", str(port)],
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until_ready(process, f"{base_url}/.well-known/nodeinfo", log)
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


def test_webfinger_loops_back_to_the_actor(served: str) -> None:
    host = served.removeprefix("http://")
    handle = parse_handle(f"river@{host}")
    with httpx.Client(timeout=10.0) as http:
        # Given the co-op's handle, WebFinger gives the actor's IRI
        finger = http.get(f"{served}/.well-known/webfinger", params={"resource": handle.acct})
        assert finger.status_code == 200
        assert finger.headers["content-type"] == "application/jrd+json"
        self_href = pick_self_link(finger.json())

        # When the actor is fetched as ActivityPub
        response = http.get(self_href, headers={"Accept": "application/activity+json"})
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/activity+json"
        actor = response.json()

        # Then its id is the self href, and the JRD loops back to it
        assert actor["id"] == self_href == f"{served}/coop"
        check_loopback(finger.json(), handle, actor["id"])
        assert (actor["type"], actor["preferredUsername"]) == ("Group", "river")
        key = read_public_key_document(actor["publicKey"])
        check_key_owner(key, actor["id"])
        assert key.algorithm == "rsa"

        # And NodeInfo names the software
        info = http.get(f"{served}/nodeinfo/2.1").json()
        assert info["software"]["name"] == "sharing-care"
        assert info["metadata"]["sharingCare"]["coop"]["actor"] == actor["id"]
