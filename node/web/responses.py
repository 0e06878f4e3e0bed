"""Response types for the documents the node serves, each with its exact media type."""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import Response

from protocol.serialize import dumps
from protocol.vocab import MediaType

__all__ = ["ActivityResponse", "JrdResponse", "JsonResponse", "XrdResponse"]


class JsonResponse(Response):
    """Compact UTF-8 JSON with a caller-chosen media type."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class ActivityResponse(Response):
    """An AS2 document (``application/activity+json``), in protocol's canonical bytes."""

    media_type = MediaType.ACTIVITY_JSON.value

    def render(self, content: Any) -> bytes:
        return dumps(content)


class JrdResponse(JsonResponse):
    """A WebFinger JRD (RFC 7033 §10.2); any origin may read it (RFC 7033 §5)."""

    media_type = "application/jrd+json"

    def __init__(self, content: Any, status_code: int = 200) -> None:
        super().__init__(content, status_code, headers={"Access-Control-Allow-Origin": "*"})


class XrdResponse(Response):
    """An XRD document (host-meta, RFC 6415)."""

    media_type = "application/xrd+xml"
