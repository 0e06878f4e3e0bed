"""Addressing: who a document is for, and what must never be delivered.

Sharing Care has four audiences (vocab.md "Audiences"); `addressing` turns one
into AS2 ``to``/``cc``. The other direction reads what remote servers send:
`is_public` accepts all three spellings of the public collection, as Mastodon
does, and `strip_private` removes ``bto``/``bcc`` before delivery (ActivityPub
§7.1: "The server MUST remove the bto and/or bcc properties … before delivery").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Any

from protocol.objects import Activity, Object
from protocol.vocab import PUBLIC, PUBLIC_ADDRESSES

__all__ = ["Audience", "addressed", "addressing", "is_public", "strip_private"]

_PRIVATE = frozenset({"bto", "bcc"})


class Audience(StrEnum):
    """Who may see something we publish."""

    PUBLIC = "public"  # everyone; Mastodon shows it on public timelines
    FEDERATION = "federation"  # nodes of our co-op federation only, plus followers
    FOLLOWERS = "followers"  # the publishing actor's followers
    MEMBERS = "members"  # our own members: never leaves the node


def addressing(
    audience: Audience, followers_iri: str, federation_iri: str | None = None
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``(to, cc)`` for an audience, as vocab.md lays them out.

    Raises ``ValueError`` for ``MEMBERS`` (nothing members-only is ever
    addressed for delivery) and for ``FEDERATION`` without a federation IRI:
    both are bugs in the caller, not input to tolerate.
    """
    if audience is Audience.PUBLIC:
        return (PUBLIC,), (followers_iri,)
    if audience is Audience.FEDERATION:
        if not federation_iri:
            raise ValueError("federation audience needs the co-op's sc:federation IRI")
        return (federation_iri,), (followers_iri,)
    if audience is Audience.FOLLOWERS:
        return (followers_iri,), ()
    raise ValueError("members-only content never leaves the node")


def is_public(target: Activity | Object | Iterable[str]) -> bool:
    """Whether the public collection is addressed, in any of its three spellings.

    Mastodon counts it in ``to`` (public) or ``cc`` (unlisted); both are public to us.
    """
    addresses = _addresses(target) if isinstance(target, Activity | Object) else target
    return any(address in PUBLIC_ADDRESSES for address in addresses)


def addressed(target: Activity | Object) -> tuple[str, ...]:
    """Every addressed IRI but the public collection, once each, in document order.

    ``to``, ``cc``, ``bto``, ``bcc`` and ``audience``: the actors and
    collections the node has to resolve into inboxes.
    """
    seen: dict[str, None] = {}
    for address in _addresses(target):
        if address not in PUBLIC_ADDRESSES:
            seen.setdefault(address)
    return tuple(seen)


def strip_private(doc: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``doc`` without ``bto``/``bcc``, at every level (embedded objects too)."""
    return {key: _strip(value) for key, value in doc.items() if key not in _PRIVATE}


def _strip(value: Any) -> Any:
    if isinstance(value, Mapping):
        return strip_private(value)
    if isinstance(value, list):
        return [_strip(item) for item in value]
    return value


def _addresses(target: Activity | Object) -> tuple[str, ...]:
    return target.to + target.cc + target.bto + target.bcc + target.audience
