"""The JSON-LD context documents we know, served from package data, never fetched.

A JSON-LD processor dereferences every context URL it meets. Doing that over
the network would let any remote document make us fetch arbitrary URLs (and
stall on w3.org), so the four contexts we emit are vendored under
``protocol/contexts/`` (see the README there for where each copy came from) and
this module is a plain lookup table from URL to file. An unknown URL is an
error, not a fetch.

``document_loader`` has the shape pyld's ``jsonld.expand(doc, {"documentLoader": ...})``
expects (pyld ``jsonld.py`` ``load_document``: a dict with ``contentType``,
``contextUrl``, ``documentUrl`` and ``document``).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any, Final

from protocol.errors import ParseError
from protocol.vocab import ACTIVITYSTREAMS, MULTIKEY_V1, SECURITY_V1

__all__ = [
    "CONTEXT_URLS",
    "SHARING_CARE_CONTEXT",
    "document_loader",
    "load_context",
]

# Our own context document. The namespace IRI is `sc:` = "<this>#"; every node
# also serves the same document at <base>/ns (vocab.md).
SHARING_CARE_CONTEXT: Final = "https://w3id.org/sharing-care/ns"

_FILES: Final = {
    ACTIVITYSTREAMS: "activitystreams.jsonld",
    SECURITY_V1: "security-v1.jsonld",
    MULTIKEY_V1: "multikey-v1.jsonld",
    SHARING_CARE_CONTEXT: "sharing-care.jsonld",
}

CONTEXT_URLS: Final = frozenset(_FILES)

_PATH = "$['@context']"


def _canonical(url: str) -> str:
    """The table key for ``url``: scheme-insensitive, no fragment or trailing ``/``.

    Real documents spell the AS2 context ``http://www.w3.org/ns/activitystreams``
    or with a trailing ``#``; they name the same document (AS2 Core §2.1 gives
    the ``https`` form as canonical).
    """
    bare = url.strip().split("#", 1)[0].rstrip("/")
    if bare.startswith("http://"):
        bare = "https://" + bare.removeprefix("http://")
    if bare.endswith(".jsonld") and bare.removesuffix(".jsonld") == ACTIVITYSTREAMS:
        return ACTIVITYSTREAMS  # w3.org also serves the file as activitystreams.jsonld
    return bare


# Package data next to this module. Read by path rather than importlib.resources:
# the files ship unzipped in the wheel (pyproject package-data), and a path works
# whether `protocol` was installed as a regular or (stale editable) namespace package.
_DIR: Final = Path(__file__).with_name("contexts")


@cache
def _text(name: str) -> str:
    """The vendored file's text; package data, read once per process."""
    return (_DIR / name).read_text(encoding="utf-8")


def load_context(url: str) -> dict[str, Any]:
    """The context document vendored for ``url``, freshly parsed (callers may mutate it).

    Raises :class:`ParseError` for a URL we do not ship: we never fetch contexts.
    """
    name = _FILES.get(_canonical(url))
    if name is None:
        raise ParseError(_PATH, f"unknown JSON-LD context {url!r}; contexts are never fetched")
    document: dict[str, Any] = json.loads(_text(name))
    return document


def document_loader(url: str, options: object = None) -> dict[str, Any]:
    """A pyld document loader that only ever answers from :func:`load_context`.

    ``options`` is accepted (pyld passes its options dict) and ignored.
    """
    del options
    return {
        "contentType": "application/ld+json",
        "contextUrl": None,
        "documentUrl": url,
        "document": load_context(url),
    }
