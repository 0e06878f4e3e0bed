#!/usr/bin/env python3
"""Set up and run everything, on a machine that has only Python 3 and git.

    python3 dev.py check     install, then format check, lint, types, import contracts, tests
    python3 dev.py test      install, then the tests only (pytest arguments may follow)
    python3 dev.py serve     install, then start a local node on http://127.0.0.1:8000
                             (created in ./data on first run, SQLite, local development mode)
    python3 dev.py demo      install, then start demo co-op nodes on loopback
    python3 dev.py bench     install, then run the benchmarks in bench/
    python3 dev.py fmt       rewrite files with the formatter and the linter's fixes

The virtual environment lives in .venv; it is (re)installed when pyproject.toml
changes. Uses only the standard library, so it runs before anything is installed.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".installed"
SOURCES = ["protocol", "node", "tests", "bench", "dev.py"]


def run(*argv: str) -> int:
    print("+", " ".join(argv), flush=True)
    return subprocess.call(argv, cwd=ROOT)


def must(*argv: str) -> None:
    code = run(*argv)
    if code:
        raise SystemExit(code)


def install() -> None:
    """Create .venv and install the project with its dev tools, when anything changed."""
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text() == wanted:
        return
    if not (BIN / "python").exists():
        print(f"+ creating {VENV}", flush=True)
        venv.create(VENV, with_pip=True)
    must(str(BIN / "python"), "-m", "pip", "install", "-q", "--upgrade", "pip")
    must(str(BIN / "python"), "-m", "pip", "install", "-q", "-e", ".[dev]")
    STAMP.write_text(wanted)


def tool(name: str) -> str:
    return str(BIN / name)


def pytest(args: list[str]) -> int:
    code = run(tool("pytest"), *args)
    if code == 5:  # pytest: no tests were collected. An empty run must never pass.
        print("dev.py: no test ran", file=sys.stderr)
    return code


def static_checks() -> int:
    failures = 0
    for argv in (
        (tool("ruff"), "format", "--check", *SOURCES),
        (tool("ruff"), "check", *SOURCES),
        (tool("mypy"),),
        (tool("lint-imports"),),
    ):
        failures += run(*argv) != 0
    return failures


def serve(rest: list[str]) -> int:
    """Create ./data on first run (local development, SQLite), then serve it."""
    data = ROOT / "data"
    if not (data / "config.toml").exists():
        password = data.parent / ".data-admin-password"
        password.write_text(secrets.token_urlsafe(18))
        password.chmod(0o600)
        code = run(
            tool("sharing-care"), "init", "--data-dir", str(data),
            "--base-url", "http://127.0.0.1:8000", "--name", "Local Care Co-op",
            "--handle", "localcoop", "--local-dev", "--admin", "admin",
            "--admin-password-file", str(password),
        )  # fmt: skip
        if code:
            return code
        kept = data / "admin-password.txt"
        password.replace(kept)
        print(f"admin password for 'admin' is in {kept}", flush=True)
    return run(tool("sharing-care"), "serve", "--data-dir", str(data), *rest)


def main(argv: list[str]) -> int:
    command, rest = (argv[0], argv[1:]) if argv else ("check", [])
    install()
    if command == "check":
        failed = static_checks()
        code = pytest(rest)
        return code or (1 if failed else 0)
    if command == "test":
        return pytest(rest)
    if command == "serve":
        return serve(rest)
    if command == "demo":
        return run(tool("sharing-care"), "demo", *rest)
    if command == "bench":
        scripts = sorted((ROOT / "bench").glob("*_bench.py"))
        return max((run(tool("python"), str(path), *rest) for path in scripts), default=0)
    if command == "fmt":
        run(tool("ruff"), "check", "--fix", *SOURCES)
        return run(tool("ruff"), "format", *SOURCES)
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
