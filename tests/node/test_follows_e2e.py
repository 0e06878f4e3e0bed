"""Two real nodes on loopback: A's co-op follows B's co-op by handle, then unfollows.

Each node is its own `sharing-care serve` process (uvicorn, local development
mode); the follow is started with `sharing-care follow`, and everything after
that happens between the two processes: A delivers the Follow, B fetches A's
key, accepts automatically and delivers the Accept, A marks the follow
accepted. B may run on PostgreSQL (when configured) while A stays on SQLite.
"""

from __future__ import annotations

import os
import subprocess
import time
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from nodekit import DATABASES, init_argv
from test_serve import SHARING_CARE, free_port, wait_until_ready

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

DEADLINE_SECONDS = 40.0


@contextmanager
def running_node(root: Path, env: dict[str, str]) -> Iterator[tuple[str, Path]]:
    """`init` then `serve` a node under ``root``; yields its base URL and data directory."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    data_dir, password = root / "node", root / "password"
    root.mkdir(parents=True, exist_ok=True)
    password.write_text("a password for the served node", encoding="utf-8")
    subprocess.run(  # noqa: S603 (our own console script)
        [SHARING_CARE, *init_argv(data_dir, password, base_url)],
        env=env,
        check=True,
        timeout=120,
        capture_output=True,
    )
    log = root / "serve.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(  # noqa: S603
            [SHARING_CARE, "serve", "--data-dir", str(data_dir), "--port", str(port)],
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until_ready(process, f"{base_url}/.well-known/nodeinfo", log)
        yield base_url, data_dir
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


def cli(env: dict[str, str], *argv: str) -> str:
    done = subprocess.run(  # noqa: S603
        [SHARING_CARE, *argv], env=env, timeout=60, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def eventually(check: Callable[[], Any], what: str, logs: list[Path]) -> Any:
    """Poll ``check`` until it returns something truthy, or fail showing the node logs."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    shown = "\n".join(f"--- {log}\n{log.read_text()[-4000:]}" for log in logs)
    pytest.fail(f"timed out waiting for {what}\n{shown}")


def items(base_url: str, path: str) -> list[str]:
    response = httpx.get(f"{base_url}{path}?page=1", timeout=5.0)
    assert response.status_code == 200
    found: list[str] = response.json().get("orderedItems", [])
    return found


@pytest.mark.parametrize("database_b", DATABASES)
def test_coop_follows_coop_by_handle_and_unfollows(
    request: pytest.FixtureRequest, tmp_path: Path, database_b: str
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHARING_CARE_")}
    env_b = dict(env)
    if database_b == "postgresql":
        env_b["SHARING_CARE_DATABASE_URL"] = request.getfixturevalue("postgres_url")
    logs = [tmp_path / "a" / "serve.log", tmp_path / "b" / "serve.log"]
    with (
        running_node(tmp_path / "a", env) as (a_url, a_dir),
        running_node(tmp_path / "b", env_b) as (b_url, _b_dir),
    ):
        a_coop, b_coop = f"{a_url}/coop", f"{b_url}/coop"
        handle = f"@river@{b_url.removeprefix('http://')}"

        # When A's co-op follows B's co-op by handle
        said = cli(env, "follow", "--data-dir", str(a_dir), handle)
        assert f"follows {b_coop}: pending" in said

        # Then B accepts automatically and lists A among its followers…
        eventually(lambda: items(b_url, "/coop/followers") == [a_coop], "B's followers", logs)
        # …and A's follow becomes accepted once B's Accept arrives
        eventually(lambda: items(a_url, "/coop/following") == [b_coop], "A's following", logs)

        # When A unfollows, B forgets A
        said = cli(env, "unfollow", "--data-dir", str(a_dir), handle)
        assert "no longer follows" in said
        assert items(a_url, "/coop/following") == []
        eventually(lambda: items(b_url, "/coop/followers") == [], "B to drop A", logs)
