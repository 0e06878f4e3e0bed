"""Guards for what we fetch and what we parse: SSRF-safe URLs, size and JSON limits.

Every URL the node fetches or delivers to comes from a remote document, so an
attacker chooses it. :func:`check_url` refuses URLs that point into the node's
own network (loopback, private, link-local, cloud metadata at 169.254.169.254,
...) and returns a canonical :class:`SafeURL`; the node must connect to
``safe.url``, not the original string, so that what was checked is what is
used. Names are only half the story: after DNS, the node passes the answers to
:func:`check_resolved`, which refuses private addresses too (DNS rebinding).

:func:`decode_json` is the one way untrusted bytes become JSON: size-capped,
strict UTF-8, an object at the top, no duplicate keys, no NaN/Infinity, bounded
depth. Each refusal is a :class:`ParseError` or :class:`TooLarge`.
"""

from __future__ import annotations

import ipaddress
import json
import math
import re
from array import array
from dataclasses import dataclass
from itertools import accumulate
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlsplit, urlunsplit

from protocol.errors import ParseError, TooLarge, UnsafeURL

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = [
    "MAX_ACTIVITY_BYTES",
    "MAX_JSON_DEPTH",
    "IPAddress",
    "SafeURL",
    "check_resolved",
    "check_size",
    "check_url",
    "decode_json",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Mastodon activity.rb: MAX_JSON_SIZE = 1.megabyte (inbox bodies and fetched documents).
MAX_ACTIVITY_BYTES: Final = 1_048_576
MAX_JSON_DEPTH: Final = 64

_DEFAULT_PORTS: Final = {"http": 80, "https": 443}

# Ranges no federated peer lives in. Ordered most specific first, so the reason
# names the narrowest range. IANA special-purpose registries (RFC 6890 and updates).
_V4_REFUSED: Final = tuple(
    (ipaddress.IPv4Network(net), why)
    for net, why in (
        ("0.0.0.0/8", "unspecified ('this network', RFC 791)"),
        ("10.0.0.0/8", "private (RFC 1918)"),
        ("100.64.0.0/10", "shared carrier-grade NAT (RFC 6598)"),
        ("127.0.0.0/8", "loopback (RFC 1122)"),
        ("169.254.0.0/16", "link-local (RFC 3927), incl. cloud metadata"),
        ("172.16.0.0/12", "private (RFC 1918)"),
        ("192.0.0.0/24", "IETF protocol assignments (RFC 6890)"),
        ("192.0.2.0/24", "documentation (RFC 5737)"),
        ("192.88.99.0/24", "6to4 relay anycast (RFC 7526)"),
        ("192.168.0.0/16", "private (RFC 1918)"),
        ("198.18.0.0/15", "benchmarking (RFC 2544)"),
        ("198.51.100.0/24", "documentation (RFC 5737)"),
        ("203.0.113.0/24", "documentation (RFC 5737)"),
        ("224.0.0.0/4", "multicast (RFC 5771)"),
        ("240.0.0.0/4", "reserved (RFC 1112), incl. broadcast"),
    )
)
_V6_REFUSED: Final = tuple(
    (ipaddress.IPv6Network(net), why)
    for net, why in (
        ("::/128", "unspecified (RFC 4291)"),
        ("::1/128", "loopback (RFC 4291)"),
        ("64:ff9b:1::/48", "local-use NAT64 (RFC 8215)"),
        ("fc00::/7", "private unique-local (RFC 4193)"),
        ("fe80::/10", "link-local (RFC 4291)"),
        ("fec0::/10", "site-local (RFC 3879)"),
        ("ff00::/8", "multicast (RFC 4291)"),
        ("2001::/23", "IETF protocol assignments, incl. Teredo (RFC 2928)"),
        ("2001:db8::/32", "documentation (RFC 3849)"),
        ("3fff::/20", "documentation (RFC 9637)"),
    )
)
_V6_GLOBAL_UNICAST: Final = ipaddress.IPv6Network("2000::/3")
_NAT64: Final = ipaddress.IPv6Network("64:ff9b::/96")  # RFC 6052: last 32 bits are IPv4

# RFC 6761 §6.3 (localhost), RFC 6762 (.local mDNS), RFC 8375 (home.arpa),
# ICANN 2024 private-use TLD (.internal): names that only mean something inside a network.
_PRIVATE_SUFFIXES: Final = ("localhost", "local", "home.arpa", "internal")

_HOST_CHARS = re.compile(r"[a-z0-9_-]+(\.[a-z0-9_-]+)*")
_FORBIDDEN_IN_URL = re.compile(r"[\x00-\x20\x7f\\]")
_NUMERIC_LABEL = re.compile(r"(0x[0-9a-f]*|[0-9]+)")
_JSON_STRING = re.compile(r'"[^"\\]*+(?:\\.[^"\\]*+)*+"', re.DOTALL)  # possessive: no backtracking
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_STEP = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")


@dataclass(frozen=True, slots=True)
class SafeURL:
    """A URL that passed :func:`check_url`, in the canonical form to connect to.

    ``host`` is ASCII (IDNA), lower-case, without a trailing dot or IPv6
    brackets; ``port`` is explicit or the scheme's default; ``ip`` is set when
    the host is an IP literal (no DNS needed). ``url`` has no fragment.
    """

    url: str
    scheme: str
    host: str
    port: int
    ip: IPAddress | None


def check_url(url: str, *, allow_http: bool = False, allow_private: bool = False) -> SafeURL:
    """Refuse a URL we must not fetch or deliver to; return it canonicalised.

    https only (``allow_http`` for local development); no userinfo (a classic
    confusion: ``https://good.example@evil.example/``); no whitespace, control
    characters or backslashes (parsers disagree on them); a host is required.
    IP literals and local-only names are refused unless ``allow_private``.
    Numeric hosts that are not a plain dotted quad (``2130706433``, ``0x7f.1``,
    ``0177.0.0.1``) are always refused: resolvers read them as IPv4 addresses
    while they look like names to us. The fragment is dropped.
    """
    if _FORBIDDEN_IN_URL.search(url):
        raise UnsafeURL("URL contains whitespace, control characters or a backslash")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise UnsafeURL(f"URL does not parse: {error}") from None
    scheme = parts.scheme.lower()
    allowed = ("https", "http") if allow_http else ("https",)
    if scheme not in allowed:
        raise UnsafeURL(f"scheme {scheme or '(none)'!r} is not allowed (use {allowed[0]})")
    if "@" in parts.netloc:
        raise UnsafeURL("URL must not carry userinfo (user:password@)")
    if port == 0:
        raise UnsafeURL("port 0 is not a valid destination")
    bracketed = parts.netloc.startswith("[")
    host, ip = _check_host(parts.hostname or "", bracketed=bracketed, allow_private=allow_private)
    netloc = f"[{host}]" if ip is not None and ip.version == 6 else host
    if parts.port is not None:
        netloc = f"{netloc}:{parts.port}"
    canonical = urlunsplit((scheme, netloc, parts.path or "/", parts.query, ""))
    return SafeURL(canonical, scheme, host, port or _DEFAULT_PORTS[scheme], ip)


def check_resolved(
    addresses: Iterable[str], *, allow_private: bool = False
) -> tuple[IPAddress, ...]:
    """Refuse DNS answers that point into private space; return them parsed.

    Call with every address the resolver returned for a host that passed
    :func:`check_url`, and connect only to those returned here. One private
    answer refuses the lot: the client may pick any of them, and a rebinding
    attacker controls the order.
    """
    parsed: list[IPAddress] = []
    for text in addresses:
        try:
            ip = ipaddress.ip_address(text)
        except ValueError:
            raise UnsafeURL(f"resolver answer {text!r} is not an IP address") from None
        reason = None if allow_private else _refusal(ip)
        if reason is not None:
            raise UnsafeURL(f"host resolves to {ip}, which is {reason}")
        parsed.append(ip)
    if not parsed:
        raise UnsafeURL("host resolves to no address")
    return tuple(parsed)


def _check_host(raw: str, *, bracketed: bool, allow_private: bool) -> tuple[str, IPAddress | None]:
    """Canonical host and, for IP literals, the address; refuse what is unsafe."""
    if not raw:
        raise UnsafeURL("URL has no host")
    if bracketed:  # RFC 3986 IP-literal: IPv6, or IPvFuture ("[v1.x]"), which we refuse
        if ":" not in raw:
            raise UnsafeURL(f"host [{raw}] is not an IPv6 address")
        return _check_ipv6_literal(raw, allow_private=allow_private)
    try:
        # IDNA first, then every check on the ASCII form: nameprep (NFKC) maps
        # fullwidth letters and digits, and ideographic full stops, to ASCII.
        host = raw.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise UnsafeURL(f"host {raw[:80]!r} is not a valid domain name") from None
    host = host.removesuffix(".")
    if not _HOST_CHARS.fullmatch(host) or len(host) > 253:
        raise UnsafeURL(f"host {raw[:80]!r} is not a valid domain name")
    if _NUMERIC_LABEL.fullmatch(host.rsplit(".", 1)[-1]):
        return _check_ipv4_literal(host, allow_private=allow_private)
    if not allow_private:
        if any(host == s or host.endswith(f".{s}") for s in _PRIVATE_SUFFIXES):
            raise UnsafeURL(f"host {host!r} is a local-only name")
        if "." not in host:
            raise UnsafeURL(f"host {host!r} is a single-label name (resolved via search domains)")
    return host, None


def _check_ipv4_literal(host: str, *, allow_private: bool) -> tuple[str, IPAddress]:
    """WHATWG URL §3.5 'ends in a number': the host is an IPv4 address, canonical or not."""
    try:
        ip = ipaddress.IPv4Address(host)
    except ValueError:
        raise UnsafeURL(f"host {host!r} is a non-canonical IPv4 address") from None
    reason = None if allow_private else _refusal(ip)
    if reason is not None:
        raise UnsafeURL(f"host {host} is {reason}")
    return host, ip


def _check_ipv6_literal(host: str, *, allow_private: bool) -> tuple[str, IPAddress]:
    if "%" in host:
        raise UnsafeURL("IPv6 zone identifiers are not allowed in URLs")
    try:
        ip = ipaddress.IPv6Address(host)
    except ValueError:
        raise UnsafeURL(f"host [{host}] is not a valid IPv6 address") from None
    if ip.ipv4_mapped is not None and not allow_private:
        raise UnsafeURL(f"host [{host}] is an IPv4-mapped IPv6 address")
    reason = None if allow_private else _refusal(ip)
    if reason is not None:
        raise UnsafeURL(f"host [{host}] is {reason}")
    return ip.compressed, ip


def _refusal(ip: IPAddress) -> str | None:
    """Why ``ip`` is not a public unicast address, or None if it is.

    An explicit table rather than ``ip.is_global``: the stdlib's answer varies
    across Python patch releases and calls multicast and NAT64 "global".
    IPv6 forms that embed an IPv4 address (mapped, NAT64, 6to4) are judged by
    the embedded address: DNS64 answers and getaddrinfo(AI_V4MAPPED) use them.
    """
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            inner = _refusal(embedded)
            return None if inner is None else f"an IPv6 form of {embedded}, {inner}"
        table: tuple[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, str], ...] = _V6_REFUSED
        if not any(ip in net for net, _ in table) and ip not in _V6_GLOBAL_UNICAST:
            return "outside global unicast 2000::/3 (RFC 4291)"
    else:
        table = _V4_REFUSED
    return next((why for net, why in table if ip in net), None)


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def check_size(what: str, size: int, limit: int) -> None:
    """Raise :class:`TooLarge` if ``size`` bytes of ``what`` exceed ``limit``.

    The node checks ``Content-Length`` with this before reading a body, and the
    byte count while streaming (a sender may lie about, or omit, the length).
    """
    if size > limit:
        raise TooLarge(what, size, limit)


def decode_json(body: bytes, limit: int = MAX_ACTIVITY_BYTES) -> dict[str, Any]:
    """Parse untrusted bytes as one JSON object, or raise ParseError/TooLarge.

    Refused: over ``limit``; invalid UTF-8 (and a BOM: RFC 8259 §8.1); not an
    object at the top; NaN, Infinity and numbers that overflow to infinity;
    lone surrogates (I-JSON, RFC 7493 §2.1: they break every later encode);
    nesting deeper than ``MAX_JSON_DEPTH``. Duplicate keys are refused rather
    than "last wins": a signature checker and a processor that disagree on
    which duplicate counts are a known way to smuggle data past a check.
    """
    check_size("JSON body", len(body), limit)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ParseError("$", f"body is not valid UTF-8 (byte {error.start})") from None
    if text.startswith("\ufeff"):
        raise ParseError("$", "body starts with a byte order mark")
    too_deep = ParseError("$", f"nesting deeper than {MAX_JSON_DEPTH}")
    try:
        value = json.loads(
            text,
            object_pairs_hook=_unique_keys,
            parse_constant=_no_constant,
            parse_float=_finite_float,
        )
    except RecursionError:  # the C scanner guards its recursion; far past our limit anyway
        raise too_deep from None
    except json.JSONDecodeError as error:
        raise ParseError("$", f"not JSON: {error}") from None
    except ValueError:  # int() past sys.get_int_max_str_digits() (CVE-2020-10735)
        raise ParseError("$", "a number has too many digits") from None
    if not isinstance(value, dict):
        raise ParseError("$", f"expected a JSON object, got {type(value).__name__}")
    if _nesting_depth(text) > MAX_JSON_DEPTH:
        raise too_deep
    bad = _lone_surrogate_path(value)
    if bad is not None:
        raise ParseError(bad, "string contains a lone surrogate")
    return value


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ParseError("$", f"duplicate key {key!r} in an object")
        result[key] = value
    return result


def _no_constant(name: str) -> float:
    raise ParseError("$", f"{name} is not valid JSON")


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ParseError("$", f"number {text[:20]} overflows")
    return number


def _nesting_depth(text: str) -> int:
    """Deepest ``[``/``{`` nesting of *valid* JSON text (or a small bound on it), at C speed.

    Strings are cut out first so brackets inside them do not count (on valid
    JSON every string terminates, so the regex never backtracks); what is left
    is mapped to +1/-1 bytes and summed as a running total. Parsing the tree
    instead would cost a Python step per node.
    """
    opening = text.count("[") + text.count("{")
    if opening <= MAX_JSON_DEPTH:  # the usual activity: too few brackets to be too deep
        return opening
    brackets = _NOT_BRACKET.sub("", _JSON_STRING.sub("", text)).encode("ascii")
    steps = array("b", brackets.translate(_STEP))
    return max(accumulate(steps), default=0)


def _lone_surrogate_path(root: dict[str, Any]) -> str | None:
    """Path of a string (or key) holding a lone surrogate, or None."""
    try:  # one C-speed pass; only a failure pays for the walk that finds the path
        json.dumps(root, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        pass
    else:
        return None
    stack: list[tuple[Any, str]] = [(root, "$")]
    while stack:
        value, path = stack.pop()
        if isinstance(value, str):
            if not _encodes(value):
                return path
            continue
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, item in items:
            if isinstance(key, str) and not _encodes(key):
                return path
            if isinstance(item, dict | list | str):
                step = f"[{key}]" if isinstance(key, int) else f".{key}"
                stack.append((item, path + step))
    return "$"  # pragma: no cover - dumps and the walk agree


def _encodes(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
