"""``sharing-care``: the command line. Thin commands over bootstrap, store and app.

Bad input gets one line on stderr and exit status 2, and nothing is written.
Passwords never come from the command line (they would sit in shell history
and ``ps``): a file, an environment variable, or a prompt.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import uvicorn
from sqlalchemy.exc import SQLAlchemyError

from node.actions import follows
from node.actions.members import NewMember, add_member
from node.app import DATA_DIR_ENV
from node.bootstrap import InitRequest, initialise
from node.config import ENV_PREFIX, Settings, load_settings
from node.errors import InvalidInput, NodeError
from node.iris import application_iris
from node.keyring import load_keyring
from node.outbound.service import run_process
from node.outbound.worker import WorkerOptions
from node.remote.actors import RemoteActors
from node.remote.fetch import open_fetcher
from node.store.actors import get_local_actor
from node.store.db import create_engine, create_sessions, transaction
from node.store.members import get_member_by_username
from node.store.models import ActorKind, MemberRole
from node.store.schema import current_revision, ensure_at_head, upgrade
from protocol.errors import ProtocolError

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from sqlalchemy.ext.asyncio import AsyncSession

    from node.store.models import Actor

__all__ = ["ADMIN_PASSWORD_ENV", "MEMBER_PASSWORD_ENV", "build_parser", "main"]

ADMIN_PASSWORD_ENV = ENV_PREFIX + "ADMIN_PASSWORD"
MEMBER_PASSWORD_ENV = ENV_PREFIX + "MEMBER_PASSWORD"


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    """Run one command; return the process exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse has printed usage; keep main() returning
        return exc.code if isinstance(exc.code, int) else 2
    env = os.environ if environ is None else environ
    command: Callable[[argparse.Namespace, Mapping[str, str]], int] = args.command
    try:
        return command(args, env)
    except (NodeError, ProtocolError) as exc:
        return _fail(str(exc), 2)
    except (SQLAlchemyError, OSError) as exc:
        return _fail(f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}", 1)
    except KeyboardInterrupt:
        return _fail("interrupted", 130)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every command."""
    parser = argparse.ArgumentParser(prog="sharing-care", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    init = commands.add_parser("init", help="create a new node in an empty data directory")
    _data_dir(init)
    init.add_argument("--base-url", required=True, help="public origin, e.g. https://coop.example")
    init.add_argument("--name", required=True, help="the co-op's display name")
    init.add_argument("--handle", required=True, help="the co-op's handle (a-z, 0-9, _)")
    init.add_argument("--local-dev", action="store_true", help="allow http:// on loopback")
    init.add_argument("--admin", required=True, help="username of the first admin member")
    init.add_argument("--admin-password-file", type=Path, help=f"else ${ADMIN_PASSWORD_ENV}")
    init.add_argument("--database-url", help="PostgreSQL URL; default: SQLite in the data dir")
    init.set_defaults(command=_init)

    serve = commands.add_parser("serve", help="serve the node with uvicorn")
    _data_dir(serve)
    serve.add_argument("--host", help="address to listen on (default from config)")
    serve.add_argument("--port", help="port to listen on")
    serve.add_argument("--workers", help="worker processes")
    serve.add_argument("--database-url", help="override the configured database")
    serve.set_defaults(command=_serve)

    migrate = commands.add_parser("migrate", help="upgrade the database to the newest schema")
    _data_dir(migrate)
    migrate.add_argument("--database-url", help="override the configured database")
    migrate.set_defaults(command=_migrate)

    worker = commands.add_parser("worker", help="deliver queued activities until SIGTERM")
    _data_dir(worker)
    worker.add_argument("--database-url", help="override the configured database")
    worker.add_argument("--concurrency", type=int, default=64, help="requests in flight at most")
    worker.add_argument(
        "--lease",
        type=float,
        default=WorkerOptions().lease.total_seconds(),
        help="seconds a claimed delivery stays reserved; keep it above 25 (two 10 s POSTs)",
    )
    worker.set_defaults(command=_worker)

    member = commands.add_parser("member", help="manage members")
    member_commands = member.add_subparsers(required=True, metavar="ACTION")
    add = member_commands.add_parser("add", help="add a member (with a Person actor)")
    _data_dir(add)
    add.add_argument("username", help="login name and handle (a-z, 0-9, _)")
    add.add_argument("--display-name", default="", help="shown name (default: the username)")
    add.add_argument("--role", choices=[role.value for role in MemberRole], default="member")
    add.add_argument("--password-file", type=Path, help=f"else ${MEMBER_PASSWORD_ENV}")
    add.set_defaults(command=_member_add)

    for name, verb in (("follow", "follow"), ("unfollow", "stop following")):
        sub = commands.add_parser(name, help=f"{verb} a remote actor by handle (@name@host)")
        _data_dir(sub)
        sub.add_argument("handle", help="e.g. @coop@other.example")
        sub.add_argument("--as", dest="member", help="a member's username (default: the co-op)")
        sub.set_defaults(command=_follow, undo=name == "unfollow")
    return parser


def _data_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", type=Path, required=True, help="the node's data directory")


# -- commands ------------------------------------------------------------------------------


def _init(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    password = read_password(args.admin_password_file, environ, ADMIN_PASSWORD_ENV, "admin")
    request = InitRequest(
        data_dir=args.data_dir,
        base_url=args.base_url,
        coop_name=args.name,
        coop_handle=args.handle,
        admin=NewMember(args.admin, password),
        local_dev=args.local_dev,
        database_url=args.database_url,
    )
    settings = asyncio.run(initialise(request, environ, datetime.now(UTC)))
    _say(
        f"created co-op @{settings.coop_handle}@{settings.domain} in {args.data_dir}; "
        f"admin: {args.admin}. Start it with: sharing-care serve --data-dir {args.data_dir}"
    )
    return 0


def _serve(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    overrides = _overrides(args, "host", "port", "workers", "database_url")
    settings = load_settings(args.data_dir, {**environ, **overrides})
    asyncio.run(_check_schema(settings))
    # uvicorn worker processes rebuild the app from the environment (app_from_environ).
    os.environ.update(overrides)
    os.environ[DATA_DIR_ENV] = str(args.data_dir.resolve())
    uvicorn.run(
        "node.app:app_from_environ",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        loop="uvloop",
        http="httptools",
        lifespan="on",
        server_header=False,
    )
    return 0


def _migrate(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    overrides = _overrides(args, "database_url")
    settings = load_settings(args.data_dir, {**environ, **overrides})
    revision = asyncio.run(_upgrade(settings))
    _say(f"database is at revision {revision}")
    return 0


def _worker(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    settings = load_settings(args.data_dir, {**environ, **_overrides(args, "database_url")})
    if args.concurrency < 1 or not args.lease >= 1:
        raise InvalidInput("--concurrency and --lease must be at least 1")
    options = WorkerOptions(lease=timedelta(seconds=args.lease))
    stats = run_process(settings, concurrency=args.concurrency, options=options)
    _say(
        f"worker stopped: {stats.delivered} delivered, {stats.retried} to retry, "
        f"{stats.failed} failed"
    )
    return 0


def _member_add(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    settings = load_settings(args.data_dir, environ)
    password = read_password(args.password_file, environ, MEMBER_PASSWORD_ENV, args.username)
    new = NewMember(args.username, password, MemberRole(args.role), args.display_name)
    asyncio.run(_add_member(settings, new))
    _say(f"added {args.role} @{args.username}@{settings.domain}")
    return 0


def _follow(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    settings = load_settings(args.data_dir, environ)
    outcome = asyncio.run(_follow_handle(settings, args.handle, args.member, undo=args.undo))
    _say(outcome)
    return 0


# -- helpers -------------------------------------------------------------------------------


def read_password(file: Path | None, environ: Mapping[str, str], env_name: str, whose: str) -> str:
    """A password from ``file``, else ``environ[env_name]``, else a prompt on a terminal."""
    if file is not None:
        try:
            return file.read_text(encoding="utf-8").rstrip("\r\n")
        except (OSError, UnicodeDecodeError) as exc:
            raise InvalidInput(f"cannot read the password file {file}: {exc}") from None
    if env_name in environ:
        return environ[env_name]
    if not sys.stdin.isatty():
        raise InvalidInput(f"no password for {whose}: give a password file or set ${env_name}")
    first = getpass.getpass(f"Password for {whose}: ")
    if getpass.getpass("Again: ") != first:
        raise InvalidInput("the two passwords differ")
    return first


def _overrides(args: argparse.Namespace, *names: str) -> dict[str, str]:
    """Command-line flags as SHARING_CARE_* variables: they win over file and environment."""
    values = {name: getattr(args, name) for name in names}
    return {ENV_PREFIX + name.upper(): value for name, value in values.items() if value is not None}


async def _check_schema(settings: Settings) -> None:
    engine = create_engine(settings)
    try:
        await ensure_at_head(engine)
    finally:
        await engine.dispose()


async def _upgrade(settings: Settings) -> str | None:
    engine = create_engine(settings)
    try:
        await upgrade(engine)
        return await current_revision(engine)
    finally:
        await engine.dispose()


async def _add_member(settings: Settings, new: NewMember) -> None:
    engine = create_engine(settings)
    try:
        await ensure_at_head(engine)
        async with transaction(create_sessions(engine)) as session:
            await add_member(session, settings, new, datetime.now(UTC))
    finally:
        await engine.dispose()


async def _follow_handle(settings: Settings, handle: str, member: str | None, *, undo: bool) -> str:
    """Follow (or unfollow) ``handle`` as the co-op or a member; the worker delivers it."""
    engine = create_engine(settings)
    try:
        await ensure_at_head(engine)
        sessions = create_sessions(engine)
        keyring = await load_keyring(sessions)
        key = keyring.signing_key(application_iris(settings.base_url).id)
        # Read in its own session: the follow's transaction must not hold a SQLite
        # read snapshot across the network lookups (it could not write afterwards).
        async with sessions() as session:
            local = await _acting_actor(session, member)
        async with open_fetcher(settings, key) as fetcher:
            remote = RemoteActors(sessions, fetcher, settings.base_url)
            if undo:
                target = await fetcher.lookup(handle)
                async with transaction(sessions) as session:
                    await follows.unfollow(session, local, target.id, datetime.now(UTC))
                return f"{local.iri} no longer follows {target.id}"
            async with transaction(sessions) as session:
                follow = await follows.follow(session, remote, local, handle, datetime.now(UTC))
            return f"{local.iri} follows {follow.followed_iri}: {follow.state.value}"
    finally:
        await engine.dispose()


async def _acting_actor(session: AsyncSession, member: str | None) -> Actor:
    if member is None:
        actor = await get_local_actor(session, ActorKind.COOP)
    else:
        found = await get_member_by_username(session, member)
        actor = None if found is None else found.actor
    if actor is None:
        raise InvalidInput(f"no member {member!r} on this node" if member else "no co-op actor")
    return actor


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")


def _fail(message: str, code: int) -> int:
    sys.stderr.write(f"sharing-care: error: {message}\n")
    return code
