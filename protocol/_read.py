"""Readers for single AS2 property values, each naming its JSON path on failure.

The building blocks of `protocol.parse`: every reader takes an untrusted value
and the path it came from, and returns a plain Python value or raises
:class:`ParseError`. The shapes real servers send are folded here, once: a
single value or a list, an IRI or an embedded object with an ``id``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, TypeVar
from urllib.parse import urlsplit

from protocol.errors import ParseError
from protocol.vocab import PUBLIC_ADDRESSES

__all__ = ["MAX_DEPTH", "MAX_ITEMS", "At", "Doc", "is_http_iri"]

MAX_DEPTH = 8  # embedded objects inside objects: Announce{Create{Note}} is 2
MAX_ITEMS = 1000  # entries in any one list (addressing, tags, collection items)
MAX_IRI = 4096
MAX_INT = 2**53 - 1  # RFC 7493 (I-JSON) §2.2: the integers every JSON reader agrees on

_E = TypeVar("_E", bound=StrEnum)
_T = TypeVar("_T")
_BAD_IRI_CHAR = re.compile(r"[\s\x00-\x1f\x7f]")


@dataclass(frozen=True, slots=True)
class At:
    """Where a value sits in the document (``$.object.tag[2]``) and how deep."""

    path: str = "$"
    depth: int = 0

    def key(self, name: str) -> At:
        return At(f"{self.path}.{name}", self.depth)

    def index(self, i: int) -> At:
        return At(f"{self.path}[{i}]", self.depth)

    def deeper(self) -> At:
        """The same place, one embedded object further down; bounded by MAX_DEPTH."""
        if self.depth >= MAX_DEPTH:
            raise self.error(f"objects nested more than {MAX_DEPTH} deep")
        return At(self.path, self.depth + 1)

    def error(self, reason: str) -> ParseError:
        return ParseError(self.path, reason)


def is_http_iri(value: str) -> bool:
    """An absolute ``http``/``https`` IRI with a host and no whitespace."""
    if len(value) > MAX_IRI or _BAD_IRI_CHAR.search(value):
        return False
    try:
        parts = urlsplit(value)
    except ValueError:  # e.g. an unbalanced "[" in the authority
        return False
    return parts.scheme.lower() in {"http", "https"} and bool(parts.hostname)


def as_list(value: Any, at: At) -> list[tuple[Any, At]]:
    """AS2 "functional or not": ``None`` → [], a list → its entries, else [value]."""
    if value is None:
        return []
    if not isinstance(value, list):
        return [(value, at)]
    if len(value) > MAX_ITEMS:
        raise at.error(f"more than {MAX_ITEMS} entries")
    return [(item, at.index(i)) for i, item in enumerate(value)]


def string(value: Any, at: At) -> str:
    """A string, possibly empty; lone surrogates (from ``\\ud800`` escapes) refused."""
    if not isinstance(value, str):
        raise at.error(f"expected a string, got {_kind(value)}")
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise at.error("string is not valid Unicode") from None
    return value


def text(value: Any, at: At) -> str | None:
    """An optional string; ``null`` and ``""`` both mean absent."""
    return None if value is None else (string(value, at) or None)


def iri(value: Any, at: At) -> str | None:
    """An optional http(s) IRI, given as a string or as an object carrying ``id``."""
    if value is None:
        return None
    if isinstance(value, Mapping):
        if value.get("id") is None:
            raise at.error("embedded object has no id")
        return iri(value["id"], at.key("id"))
    if not is_http_iri(string(value, at)):
        raise at.error("expected an absolute http(s) IRI")
    return str(value)


def iris(value: Any, at: At) -> tuple[str, ...]:
    """Zero or more IRIs: one, or a list; each a string or an object with ``id``."""
    return tuple(_required(iri, item, where) for item, where in as_list(value, at))


def address(value: Any, at: At) -> str:
    """An addressee: an IRI, or one of the three spellings of the public collection."""
    if isinstance(value, str) and value in PUBLIC_ADDRESSES:
        return value
    return _required(iri, value, at)


def flag(value: Any, at: At) -> bool:
    """A boolean; absent or ``null`` is false. ``0``/``"true"`` are not booleans."""
    if value is None:
        return False
    if not isinstance(value, bool):
        raise at.error(f"expected a boolean, got {_kind(value)}")
    return value


def integer(value: Any, at: At, minimum: int) -> int | None:
    """An optional integer at or above ``minimum``; floats and booleans refused."""
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise at.error(f"expected an integer, got {_kind(value)}")
    if not minimum <= value <= MAX_INT:
        raise at.error(f"must be between {minimum} and {MAX_INT}")
    return value


def time(value: Any, at: At) -> datetime | None:
    """An xsd:dateTime, as an aware UTC datetime (no offset is read as UTC)."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(string(value, at))
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        raise at.error("expected an ISO 8601 date-time") from None


def types(value: Any, at: At) -> list[str]:
    """``type`` as a list of strings (a single string is the common case)."""
    if value is None:
        raise at.error("required")
    found = [string(item, where) for item, where in as_list(value, at)]
    if not found:
        raise at.error("required")
    return found


def member(value: Any, at: At, enum: type[_E]) -> _E | None:
    """A string naming a member of ``enum``; unknown names are ignored (newer peers)."""
    name = text(value, at)
    if name is None:
        return None
    try:
        return enum(name)
    except ValueError:
        return None


def _required(read: Callable[[Any, At], _T | None], value: Any, at: At) -> _T:
    result = read(value, at)
    if result is None:
        raise at.error("required")
    return result


def _kind(value: Any) -> str:
    names = {bool: "a boolean", int: "a number", float: "a number", list: "a list"}
    if value is None:
        return "null"
    if isinstance(value, Mapping):
        return "an object"
    return names.get(type(value), type(value).__name__)


@dataclass(frozen=True, slots=True)
class Doc:
    """A JSON object and its path, with one reader per value shape."""

    data: Mapping[str, Any]
    at: At

    @classmethod
    def of(cls, value: Any, at: At) -> Doc:
        if not isinstance(value, Mapping):
            raise at.error(f"expected an object, got {_kind(value)}")
        return cls(value, at)

    def get(self, key: str) -> tuple[Any, At]:
        return self.data.get(key), self.at.key(key)

    def text(self, key: str) -> str | None:
        return text(*self.get(key))

    def iri(self, key: str) -> str | None:
        return iri(*self.get(key))

    def required_iri(self, key: str) -> str:
        return _required(iri, *self.get(key))

    def iris(self, key: str) -> tuple[str, ...]:
        return iris(*self.get(key))

    def addresses(self, key: str) -> tuple[str, ...]:
        return tuple(address(item, at) for item, at in as_list(*self.get(key)))

    def strings(self, key: str) -> tuple[str, ...]:
        return tuple(_required(text, item, at) for item, at in as_list(*self.get(key)))

    def flag(self, key: str) -> bool:
        return flag(*self.get(key))

    def integer(self, key: str, minimum: int = 0) -> int | None:
        return integer(*self.get(key), minimum)

    def time(self, key: str) -> datetime | None:
        return time(*self.get(key))

    def member(self, key: str, enum: type[_E]) -> _E | None:
        return member(*self.get(key), enum)
