"""Structured Field Values (RFC 8941): the subset RFC 9421 and RFC 9530 use.

Dictionaries, inner lists, parameters, and the bare items string, token,
integer, byte sequence and boolean. Decimals, top-level lists and dates are
not needed by ``Signature-Input``, ``Signature`` or ``Content-Digest``, so a
field that holds one is refused rather than half-understood.

Why our own: `protocol` may depend only on the stdlib and `cryptography`, and a
signature verifier must parse strictly (RFC 9421 §3.2: a field that fails to
parse fails verification). Parsing follows the algorithms of RFC 8941 §4.2
step by step; serialising follows §4.1, which is canonical, so serialising a
parsed value gives the exact bytes RFC 9421 signs. Every failure raises
:class:`SignatureMalformed`: these fields exist only to carry signatures.
"""

from __future__ import annotations

import binascii
import re
from dataclasses import dataclass

from protocol.errors import SignatureMalformed

__all__ = [
    "BareItem",
    "Dictionary",
    "InnerList",
    "Item",
    "Params",
    "Token",
    "decode_base64",
    "parse_dictionary",
    "parse_item",
    "serialize_bare",
    "serialize_dictionary",
    "serialize_inner_list",
    "serialize_item",
    "serialize_params",
]


class Token(str):
    """An sf-token (RFC 8941 §3.3.4), kept apart from an sf-string."""

    __slots__ = ()


BareItem = bool | int | bytes | Token | str
Params = tuple[tuple[str, BareItem], ...]


@dataclass(frozen=True, slots=True)
class Item:
    """A bare item with its parameters (RFC 8941 §3.3)."""

    value: BareItem
    params: Params = ()


@dataclass(frozen=True, slots=True)
class InnerList:
    """A parenthesised list of items with its parameters (RFC 8941 §3.1.1)."""

    items: tuple[Item, ...]
    params: Params = ()


Dictionary = dict[str, Item | InnerList]

# RFC 8941 §3.1.2 key, §3.3.4 token, §3.3.1 integer (at most 15 digits).
_KEY = re.compile(r"[a-z*][a-z0-9_\-.*]*")
_TOKEN = re.compile(r"[A-Za-z*][!#$%&'*+\-.^_`|~0-9A-Za-z:/]*")
_INTEGER = re.compile(r"-?[0-9]{1,15}")
# §3.3.3: printable ASCII; only DQUOTE and backslash are escaped.
_STRING = re.compile(r'"((?:[ !#-\[\]-~]++|\\["\\])*+)"')
_BYTES = re.compile(r":([A-Za-z0-9+/=]*):")
_UNESCAPE = re.compile(r"\\([\"\\])")
_NEEDS_ESCAPE = re.compile(r'["\\]')
_PRINTABLE = re.compile(r"[ -~]*")
_OWS = " \t"


def _fail(reason: str, text: str, pos: int) -> SignatureMalformed:
    return SignatureMalformed(f"structured field: {reason} at offset {pos} of {text[:80]!r}")


def parse_dictionary(text: str) -> Dictionary:
    """Parse a Dictionary field value (RFC 8941 §4.2.2); duplicate keys: last wins."""
    text = text.strip(" ")
    end = len(text)
    pos = 0
    result: Dictionary = {}
    while pos < end:
        key, pos = _parse_key(text, pos)
        member: Item | InnerList
        if text.startswith("=", pos):
            member, pos = _parse_member(text, pos + 1)
        else:
            params, pos = _parse_params(text, pos)
            member = Item(True, params)
        result[key] = member
        while pos < end and text[pos] in _OWS:
            pos += 1
        if pos >= end:
            break
        if text[pos] != ",":
            raise _fail("expected ','", text, pos)
        pos += 1
        while pos < end and text[pos] in _OWS:
            pos += 1
        if pos >= end:
            raise _fail("trailing ','", text, pos)
    if pos != end:
        raise _fail("unexpected input", text, pos)
    return result


def parse_item(text: str) -> Item:
    """Parse an Item field value (RFC 8941 §4.2.3), e.g. one component identifier."""
    stripped = text.strip(" ")
    item, pos = _parse_item(stripped, 0)
    if pos != len(stripped):
        raise _fail("unexpected input after item", stripped, pos)
    return item


def _parse_member(text: str, pos: int) -> tuple[Item | InnerList, int]:
    if text.startswith("(", pos):
        return _parse_inner_list(text, pos + 1)
    return _parse_item(text, pos)


def _parse_inner_list(text: str, pos: int) -> tuple[InnerList, int]:
    items: list[Item] = []
    size = len(text)
    while True:
        while pos < size and text[pos] == " ":
            pos += 1
        if pos >= size:
            raise _fail("unterminated inner list", text, pos)
        if text[pos] == ")":
            params, pos = _parse_params(text, pos + 1)
            return InnerList(tuple(items), params), pos
        item, pos = _parse_item(text, pos)
        items.append(item)
        if pos >= size or text[pos] not in " )":
            raise _fail("expected ' ' or ')' in inner list", text, pos)


def _parse_item(text: str, pos: int) -> tuple[Item, int]:
    value, pos = _parse_bare(text, pos)
    params, pos = _parse_params(text, pos)
    return Item(value, params), pos


def _parse_params(text: str, pos: int) -> tuple[Params, int]:
    if not text.startswith(";", pos):
        return (), pos
    params: dict[str, BareItem] = {}
    while text.startswith(";", pos):
        pos += 1
        while text.startswith(" ", pos):
            pos += 1
        key, pos = _parse_key(text, pos)
        value: BareItem = True
        if text.startswith("=", pos):
            value, pos = _parse_bare(text, pos + 1)
        params[key] = value
    return tuple(params.items()), pos


def _parse_key(text: str, pos: int) -> tuple[str, int]:
    match = _KEY.match(text, pos)
    if match is None:
        raise _fail("expected a key", text, pos)
    return match.group(), match.end()


def _parse_bare(text: str, pos: int) -> tuple[BareItem, int]:
    char = text[pos : pos + 1]
    if char == '"':
        return _parse_string(text, pos)
    if char == "-" or char.isdigit():
        return _parse_integer(text, pos)
    if char == ":":
        return _parse_bytes(text, pos)
    if char == "?":
        return _parse_boolean(text, pos)
    match = _TOKEN.match(text, pos)
    if match is None:
        raise _fail("expected a bare item", text, pos)
    return Token(match.group()), match.end()


def _parse_string(text: str, pos: int) -> tuple[str, int]:
    match = _STRING.match(text, pos)
    if match is None:
        raise _fail("invalid string", text, pos)
    body = match.group(1)
    return (_UNESCAPE.sub(r"\1", body) if "\\" in body else body), match.end()


def _parse_integer(text: str, pos: int) -> tuple[int, int]:
    match = _INTEGER.match(text, pos)
    if match is None:
        raise _fail("invalid integer", text, pos)
    end = match.end()
    follower = text[end : end + 1]
    if follower == ".":
        raise _fail("decimals are not supported here", text, pos)
    if follower.isdigit():
        raise _fail("integer longer than 15 digits", text, pos)
    return int(match.group()), end


def _parse_bytes(text: str, pos: int) -> tuple[bytes, int]:
    match = _BYTES.match(text, pos)
    if match is None:
        raise _fail("invalid byte sequence", text, pos)
    return decode_base64(match.group(1), "a byte sequence"), match.end()


def decode_base64(encoded: str, what: str) -> bytes:
    """Decode base64, tolerating missing '=' padding (RFC 8941 §4.2.7 asks parsers to).

    Anything outside the alphabet, or misplaced padding, raises
    :class:`SignatureMalformed` naming ``what`` was being decoded.
    """
    padding = -len(encoded) % 4
    try:
        return binascii.a2b_base64(
            encoded + "=" * padding if padding else encoded, strict_mode=True
        )
    except ValueError:  # binascii.Error, or a non-ASCII character
        raise SignatureMalformed(f"{what} is not valid base64") from None


def _parse_boolean(text: str, pos: int) -> tuple[bool, int]:
    flag = text[pos + 1 : pos + 2]
    if flag not in ("0", "1"):
        raise _fail("invalid boolean", text, pos)
    return flag == "1", pos + 2


def serialize_bare(value: BareItem) -> str:
    """Serialise a bare item (RFC 8941 §4.1.3.1)."""
    if isinstance(value, bool):
        return "?1" if value else "?0"
    if isinstance(value, int):
        if abs(value) > 999_999_999_999_999:
            raise ValueError(f"integer out of range: {value}")
        return str(value)
    if isinstance(value, bytes):
        return ":" + binascii.b2a_base64(value, newline=False).decode("ascii") + ":"
    if isinstance(value, Token):
        if _TOKEN.fullmatch(value) is None:
            raise ValueError(f"not a token: {value!r}")
        return str(value)
    if _PRINTABLE.fullmatch(value) is None:
        raise ValueError(f"string is not printable ASCII: {value!r}")
    escaped = _NEEDS_ESCAPE.sub(r"\\\g<0>", value) if ('"' in value or "\\" in value) else value
    return '"' + escaped + '"'


def serialize_params(params: Params) -> str:
    """Serialise parameters (RFC 8941 §4.1.1.2): ``;key`` for true, else ``;key=value``."""
    parts = []
    for key, value in params:
        _check_key(key)
        parts.append(f";{key}" if value is True else f";{key}={serialize_bare(value)}")
    return "".join(parts)


def serialize_item(item: Item) -> str:
    """Serialise an item with its parameters (RFC 8941 §4.1.3)."""
    return serialize_bare(item.value) + serialize_params(item.params)


def serialize_inner_list(inner: InnerList) -> str:
    """Serialise an inner list (RFC 8941 §4.1.1.1)."""
    body = " ".join(serialize_item(item) for item in inner.items)
    return f"({body}){serialize_params(inner.params)}"


def serialize_dictionary(members: Dictionary) -> str:
    """Serialise a dictionary (RFC 8941 §4.1.2); a true item omits its ``=?1``."""
    parts = []
    for key, member in members.items():
        _check_key(key)
        if isinstance(member, InnerList):
            parts.append(f"{key}={serialize_inner_list(member)}")
        elif member.value is True:
            parts.append(key + serialize_params(member.params))
        else:
            parts.append(f"{key}={serialize_item(member)}")
    return ", ".join(parts)


def _check_key(key: str) -> None:
    if _KEY.fullmatch(key) is None:
        raise ValueError(f"not a structured-field key: {key!r}")
