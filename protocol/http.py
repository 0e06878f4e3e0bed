"""A plain description of an HTTP request, for signing and verifying.

The node builds one from whatever its framework or client holds; `protocol`
never sees a framework object. Header names are lower-case; a header that
arrived several times is joined with ``", "`` (RFC 9110 §5.3).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

__all__ = ["HttpRequest"]


@dataclass(frozen=True, slots=True)
class HttpRequest:
    """``method`` upper-case, ``url`` absolute (scheme, authority, path, query)."""

    method: str
    url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""

    @classmethod
    def build(
        cls,
        method: str,
        url: str,
        headers: Mapping[str, str] | Iterable[tuple[str, str]] = (),
        body: bytes = b"",
    ) -> HttpRequest:
        """Normalise header names to lower case and join repeated headers."""
        items = headers.items() if isinstance(headers, Mapping) else headers
        joined: dict[str, str] = {}
        for name, value in items:
            key = name.lower()
            joined[key] = f"{joined[key]}, {value.strip()}" if key in joined else value.strip()
        return cls(method.upper(), url, joined, body)

    @property
    def target(self) -> str:
        """Path and query, as in the request line (``/inbox?x=1``)."""
        parts = urlsplit(self.url)
        path = parts.path or "/"
        return f"{path}?{parts.query}" if parts.query else path

    @property
    def authority(self) -> str:
        """Host (and port, when not the scheme's default), lower-case."""
        parts = urlsplit(self.url)
        host = (parts.hostname or "").lower()
        if ":" in host:  # IPv6 literal
            host = f"[{host}]"
        port = parts.port
        default = {"http": 80, "https": 443}.get(parts.scheme.lower())
        return f"{host}:{port}" if port is not None and port != default else host

    def with_headers(self, extra: Mapping[str, str]) -> HttpRequest:
        """A copy with ``extra`` headers added or replaced (names lower-cased)."""
        merged = dict(self.headers)
        merged.update({k.lower(): v for k, v in extra.items()})
        return HttpRequest(self.method, self.url, merged, self.body)
