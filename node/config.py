"""The node's settings: read once, typed, validated, then passed everywhere.

Settings come from ``<data_dir>/config.toml`` and ``SHARING_CARE_*`` environment
variables (the environment wins, so a container can override a file it cannot
edit). Every problem is collected and raised as one :class:`ConfigError`, so an
operator fixes them all in one pass. Nothing here runs at import; callers pass
the environment in, which keeps tests free of ``monkeypatch``.
"""

from __future__ import annotations

import ipaddress
import re
import tomllib
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar
from urllib.parse import urlsplit

from node.errors import ConfigError

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from pathlib import Path

__all__ = [
    "CONFIG_FILE",
    "ENV_PREFIX",
    "ConfigError",
    "Settings",
    "is_loopback_host",
    "load_settings",
    "parse_settings",
    "render_config",
]

CONFIG_FILE = "config.toml"
ENV_PREFIX = "SHARING_CARE_"

# Mastodon usernames are [a-z0-9_]; keeping to that set means every handle we
# mint can be followed from Mastodon (account.rb USERNAME_RE, case-folded).
HANDLE_RE = re.compile(r"[a-z0-9_]{1,30}")
_HOST_RE = re.compile(r"[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?")
_DATABASE_SCHEMES = ("sqlite+aiosqlite://", "postgresql+asyncpg://")

TomlValue = str | bool | int | list[str]
_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the node needs to know about itself, validated."""

    data_dir: Path
    base_url: str
    coop_handle: str
    coop_name: str
    database_url: str
    local_dev: bool = False
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    authorized_fetch: bool = False
    federation_iri: str | None = None
    federation_members: tuple[str, ...] = ()
    # Deliver from inside `serve` (default); off when `sharing-care worker` processes do it.
    run_worker_in_serve: bool = True

    @property
    def domain(self) -> str:
        """The authority of ``base_url`` (host, and port when not default): the acct: domain."""
        return urlsplit(self.base_url).netloc

    @property
    def is_sqlite(self) -> bool:
        """True when the database is the embedded SQLite file."""
        return self.database_url.startswith("sqlite")


def load_settings(data_dir: Path, environ: Mapping[str, str]) -> Settings:
    """Read ``<data_dir>/config.toml`` and the environment; raise one ConfigError listing all."""
    path = data_dir / CONFIG_FILE
    problems: list[str] = []
    values: dict[str, object] = {}
    try:
        with path.open("rb") as handle:
            values = tomllib.load(handle)
    except FileNotFoundError:
        problems.append(f"{path} does not exist (create it with `sharing-care init`)")
    except (OSError, tomllib.TOMLDecodeError) as exc:
        problems.append(f"{path} cannot be read: {exc}")
    return parse_settings(data_dir, values, environ, problems)


def parse_settings(
    data_dir: Path,
    file_values: Mapping[str, object],
    environ: Mapping[str, str],
    problems: list[str] | None = None,
) -> Settings:
    """Validate file values overlaid with ``SHARING_CARE_*`` variables, without touching disk."""
    found = list(problems or [])
    found.extend(
        f"{CONFIG_FILE}: unknown setting {key!r}" for key in file_values if key not in _FIELDS
    )
    parsed: dict[str, object] = {}
    for name, parse in _FIELDS.items():
        env_name = ENV_PREFIX + name.upper()
        raw: object
        if env_name in environ:
            origin, raw = env_name, environ[env_name]
        elif name in file_values:
            origin, raw = f"{CONFIG_FILE} {name}", file_values[name]
        else:
            if name in _REQUIRED:
                found.append(f"{name} is required (in {CONFIG_FILE} or {env_name})")
            continue
        try:
            parsed[name] = parse(raw)
        except ValueError as exc:
            found.append(f"{origin}: {exc}")
    _check_urls(parsed, found)
    if found:
        raise ConfigError(found)
    return _settings(data_dir, parsed)


def _settings(data_dir: Path, parsed: Mapping[str, object]) -> Settings:
    def get(name: str, kind: type[_T], default: _T) -> _T:
        value = parsed.get(name, default)
        if not isinstance(value, kind):  # the parsers above guarantee the type
            raise TypeError(f"{name} parsed to {type(value).__name__}")
        return value

    sqlite = f"sqlite+aiosqlite:///{data_dir.resolve() / 'node.sqlite3'}"
    federation_iri = parsed.get("federation_iri")
    return Settings(
        data_dir=data_dir,
        base_url=get("base_url", str, ""),
        coop_handle=get("coop_handle", str, ""),
        coop_name=get("coop_name", str, ""),
        database_url=get("database_url", str, sqlite),
        local_dev=get("local_dev", bool, False),
        host=get("host", str, "127.0.0.1"),
        port=get("port", int, 8000),
        workers=get("workers", int, 1),
        authorized_fetch=get("authorized_fetch", bool, False),
        federation_iri=federation_iri if isinstance(federation_iri, str) else None,
        federation_members=get("federation_members", tuple, ()),
        run_worker_in_serve=get("run_worker_in_serve", bool, True),
    )


def render_config(values: Mapping[str, TomlValue]) -> str:
    """A config.toml holding ``values`` (strings, booleans, integers, string lists)."""
    lines = ["# Sharing Care node settings. SHARING_CARE_<NAME> environment variables win."]
    for key, value in values.items():
        if key not in _FIELDS:
            raise ValueError(f"unknown setting {key!r}")
        lines.append(f"{key} = {_toml_value(value)}")
    return "\n".join(lines) + "\n"


def is_loopback_host(host: str) -> bool:
    """True for ``localhost`` and loopback IP literals (127.0.0.0/8, ::1)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


# -- field parsers: each takes a TOML value or an environment string -----------------------


def _text(raw: object) -> str:
    if not isinstance(raw, str):
        raise ValueError("must be a string")
    text = raw.strip()
    if not text:
        raise ValueError("must not be empty")
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in text):
        raise ValueError("must not contain control characters")
    return text


def _flag(raw: object) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.strip().lower() in {"1", "true", "yes", "on"}:
        return True
    if isinstance(raw, str) and raw.strip().lower() in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError("must be true or false")


def _integer(low: int, high: int) -> Callable[[object], int]:
    def parse(raw: object) -> int:
        if isinstance(raw, str) and raw.strip().isdigit():
            raw = int(raw.strip())
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise ValueError("must be a whole number")
        if not low <= raw <= high:
            raise ValueError(f"must be between {low} and {high}")
        return raw

    return parse


def _handle(raw: object) -> str:
    text = _text(raw)
    if not HANDLE_RE.fullmatch(text):
        raise ValueError("must be 1-30 characters of a-z, 0-9 and _")
    return text


def _name(raw: object) -> str:
    text = _text(raw)
    if len(text) > 100:
        raise ValueError("must be at most 100 characters")
    return text


def _database_url(raw: object) -> str:
    text = _text(raw)
    if not text.startswith(_DATABASE_SCHEMES):
        raise ValueError("must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
    return text


def _hosts(raw: object) -> tuple[str, ...]:
    if isinstance(raw, str):
        raw = [part for part in raw.split(",") if part.strip()]
    if not isinstance(raw, list) or not all(isinstance(item, str) for item in raw):
        raise ValueError("must be a list of host names")
    hosts = tuple(item.strip().lower() for item in raw)
    bad = [host for host in hosts if not _HOST_RE.fullmatch(host)]
    if bad:
        raise ValueError(f"not host names: {', '.join(bad)}")
    return hosts


_FIELDS: dict[str, Callable[[object], object]] = {
    "base_url": _text,
    "coop_handle": _handle,
    "coop_name": _name,
    "database_url": _database_url,
    "local_dev": _flag,
    "host": _text,
    "port": _integer(1, 65535),
    "workers": _integer(1, 64),
    "authorized_fetch": _flag,
    "federation_iri": _text,
    "federation_members": _hosts,
    "run_worker_in_serve": _flag,
}
_REQUIRED = ("base_url", "coop_handle", "coop_name")


def _check_urls(parsed: dict[str, object], found: list[str]) -> None:
    """Normalise base_url and federation_iri in place; https unless local_dev on loopback."""
    local_dev = parsed.get("local_dev") is True
    for name in ("base_url", "federation_iri"):
        value = parsed.get(name)
        if not isinstance(value, str):
            continue
        try:
            parsed[name] = _url(value, local_dev, origin_only=name == "base_url")
        except ValueError as exc:
            found.append(f"{name}: {exc}")


def _url(value: str, local_dev: bool, *, origin_only: bool) -> str:
    parts = urlsplit(value)
    host = parts.hostname
    try:
        parts.port  # noqa: B018 (urlsplit checks the port only when it is read)
    except ValueError:
        raise ValueError(f"{value!r} has an invalid port") from None
    if parts.scheme not in {"https", "http"} or not host:
        raise ValueError(f"{value!r} is not an absolute http(s) URL")
    if parts.username is not None or parts.password is not None:
        raise ValueError("must not carry a user name or password")
    if parts.scheme == "http" and not (local_dev and is_loopback_host(host)):
        raise ValueError(
            "http:// is allowed only with local_dev = true and a loopback host; use https://"
        )
    if origin_only:
        if parts.path not in {"", "/"} or parts.query or parts.fragment:
            raise ValueError("must be an origin such as https://coop.example (no path)")
        return f"{parts.scheme}://{_authority(parts.scheme, host, parts.port)}"
    return value


def _authority(scheme: str, host: str, port: int | None) -> str:
    """Host, bracketed if IPv6, with the port only when not the scheme's default.

    WebFinger handles and HTTP signatures compare authorities as text, so
    ``https://coop.example:443`` must become ``https://coop.example``.
    """
    shown = f"[{host}]" if ":" in host else host
    default = {"https": 443, "http": 80}[scheme]
    return shown if port in (None, default) else f"{shown}:{port}"


def _toml_value(value: TomlValue) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_string(item) for item in value) + "]"
    return _toml_string(value)


def _toml_string(text: str) -> str:
    """A TOML basic string (TOML 1.0 §String: escape quote, backslash and controls)."""
    out = []
    for char in text:
        if char in {'"', "\\"}:
            out.append("\\" + char)
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04X}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'
