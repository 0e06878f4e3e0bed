"""NodeInfo 2.1/2.0 (FEP-f1d5): what this node is, and reading what a peer is.

Crawlers, instance directories and other servers read ``/.well-known/nodeinfo``
and then the highest schema version they know; Mastodon serves 2.0 only, so we
serve both. The discovery JRD also carries the FEP-2677 link to our
application actor. ``metadata.sharingCare`` lets another Sharing Care node
recognise us (and our co-op and federation) without fetching an actor.

Documents we build are checked against the schema rules by
:func:`validate_nodeinfo`; documents we read go through the tolerant
:func:`parse_nodeinfo`, because real servers bend the schema (upper-case
names, protocols outside the enum, missing usage).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final

from protocol.errors import ParseError
from protocol.vocab import Kind

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = [
    "APPLICATION_REL",
    "SOFTWARE_NAME",
    "VERSIONS",
    "NodeInfo",
    "NodeMetadata",
    "Usage",
    "content_type",
    "nodeinfo",
    "nodeinfo_jrd",
    "parse_nodeinfo",
    "pick_nodeinfo_href",
    "validate_nodeinfo",
]

SOFTWARE_NAME: Final = "sharing-care"
# FEP-2677: the discovery JRD link to the application actor.
APPLICATION_REL: Final = "https://www.w3.org/ns/activitystreams#Application"
VERSIONS: Final = ("2.1", "2.0")  # best first (NodeInfo protocol: "highest it supports")
_SCHEMA_REL: Final = "http://nodeinfo.diaspora.software/ns/schema/"


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Schema 2.1 enums (jhass/nodeinfo schemas/2.1/schema.json); 2.0 final has the same.
_PROTOCOLS: Final = _words(
    "activitypub buddycloud dfrn diaspora libertree ostatus pumpio tent xmpp zot"
)
_INBOUND: Final = _words("atom1.0 gnusocial imap pnut pop3 pumpio rss2.0 twitter")
_OUTBOUND: Final = _words(
    "acropolis atom1.0 blogger buddycloud diaspora dreamwidth drupal facebook friendica "
    "gnusocial google insanejournal libertree linkedin livejournal mediagoblin myspace "
    "pinterest pnut posterous pumpio redmatrix rss2.0 smtp tent tumblr twitter wordpress xmpp"
)
_TOP: Final = _words("version software protocols services openRegistrations usage metadata")
_SOFTWARE_NAME = re.compile(r"[a-z0-9-]+")


@dataclass(frozen=True, slots=True)
class Usage:
    """Usage counts (NodeInfo ``usage``); all non-negative."""

    users_total: int
    users_active_month: int
    users_active_halfyear: int
    local_posts: int


@dataclass(frozen=True, slots=True)
class NodeMetadata:
    """Who runs this node: ``metadata.nodeName`` and ``metadata.sharingCare``."""

    node_name: str
    coop_name: str
    coop_actor: str
    federation: str | None = None
    kinds: tuple[str, ...] = tuple(kind.value for kind in Kind)

    def to_json(self) -> dict[str, Any]:
        """The ``metadata`` object of a NodeInfo document."""
        coop = {"name": self.coop_name, "actor": self.coop_actor}
        return {
            "nodeName": self.node_name,
            "sharingCare": {
                "coop": coop,
                "federation": self.federation,
                "kinds": [str(kind) for kind in self.kinds],
            },
        }


def content_type(version: str = "2.1") -> str:
    """The media type a NodeInfo document is served with (NodeInfo protocol §Retrieval)."""
    return f'application/json; profile="{_SCHEMA_REL}{version}#"'


def nodeinfo_jrd(base_url: str, application_actor_id: str) -> dict[str, Any]:
    """``/.well-known/nodeinfo``: 2.1 and 2.0 documents and the application actor.

    Documents live at ``<base>/nodeinfo/<version>``; the node routes those paths.
    """
    base = base_url.rstrip("/")
    links = [{"rel": f"{_SCHEMA_REL}{v}", "href": f"{base}/nodeinfo/{v}"} for v in VERSIONS]
    return {"links": [*links, {"rel": APPLICATION_REL, "href": application_actor_id}]}


def nodeinfo(
    meta: NodeMetadata,
    usage: Usage,
    *,
    software_version: str,
    open_registrations: bool,
    version: str = "2.1",
    repository: str | None = None,
    homepage: str | None = None,
) -> dict[str, Any]:
    """This node's NodeInfo document, validated against the schema rules.

    2.0 is the same document without ``software.repository``/``homepage``
    (the 2.0 schema forbids extra software keys). Raises :class:`ParseError`
    (with the JSON path) if an argument breaks the schema, e.g. a negative count.
    """
    software: dict[str, str] = {"name": SOFTWARE_NAME, "version": software_version}
    if version != "2.0":
        extra = {"repository": repository, "homepage": homepage}
        software |= {key: value for key, value in extra.items() if value is not None}
    document = {
        "version": version,
        "software": software,
        "protocols": ["activitypub"],
        "services": {"inbound": [], "outbound": []},
        "openRegistrations": open_registrations,
        "usage": {
            "users": {
                "total": usage.users_total,
                "activeMonth": usage.users_active_month,
                "activeHalfyear": usage.users_active_halfyear,
            },
            "localPosts": usage.local_posts,
        },
        "metadata": meta.to_json(),
    }
    validate_nodeinfo(document)
    return document


def validate_nodeinfo(document: object) -> None:
    """Raise :class:`ParseError` unless ``document`` satisfies the 2.1 or 2.0 schema."""
    top = _object(document, "$", required=_TOP, allowed=_TOP)
    version = top["version"]
    if version not in VERSIONS:
        raise ParseError("$.version", f"must be one of {', '.join(VERSIONS)}")
    required = {"name", "version"}
    allowed = required | {"repository", "homepage"} if version == "2.1" else required
    software = _object(top["software"], "$.software", required, allowed)
    for key, value in software.items():
        if not isinstance(value, str):
            raise ParseError(f"$.software.{key}", "must be a string")
    if not _SOFTWARE_NAME.fullmatch(software["name"]):
        raise ParseError("$.software.name", "must match ^[a-z0-9-]+$")
    _enum_list(top["protocols"], "$.protocols", _PROTOCOLS, min_items=1)
    io = {"inbound", "outbound"}
    services = _object(top["services"], "$.services", io, io)
    _enum_list(services["inbound"], "$.services.inbound", _INBOUND)
    _enum_list(services["outbound"], "$.services.outbound", _OUTBOUND)
    if not isinstance(top["openRegistrations"], bool):
        raise ParseError("$.openRegistrations", "must be a boolean")
    _validate_usage(top["usage"])
    _object(top["metadata"], "$.metadata")


def _validate_usage(value: object) -> None:
    counts = {"localPosts", "localComments"}
    usage = _object(value, "$.usage", {"users"}, {"users", *counts})
    names = {"total", "activeHalfyear", "activeMonth"}
    users = _object(usage["users"], "$.usage.users", set(), names)
    checks = [(f"$.usage.users.{k}", v) for k, v in users.items()]
    checks += [(f"$.usage.{k}", v) for k, v in usage.items() if k in counts]
    for path, count in checks:
        if _count(count) is None:
            raise ParseError(path, "must be an integer >= 0")


def _object(
    value: object,
    path: str,
    required: set[str] | frozenset[str] = frozenset(),
    allowed: set[str] | frozenset[str] | None = None,
) -> dict[str, Any]:
    """``value`` as an object with the ``required`` keys and, if ``allowed``, only those."""
    if not isinstance(value, dict):
        raise ParseError(path, "must be an object")
    missing = sorted(set(required) - value.keys())
    if missing:
        raise ParseError(path, f"missing {', '.join(missing)}")
    extra = sorted(value.keys() - allowed) if allowed is not None else []
    if extra:
        raise ParseError(path, f"unexpected {', '.join(extra)}")
    return value


def _enum_list(value: object, path: str, allowed: frozenset[str], min_items: int = 0) -> None:
    if not isinstance(value, list) or len(value) < min_items:
        raise ParseError(path, f"must be an array of at least {min_items} item(s)")
    for index, item in enumerate(value):
        if item not in allowed:
            raise ParseError(f"{path}[{index}]", f"{item!r} is not a known value")


def _count(value: object) -> int | None:
    """A non-negative integer (bool excluded: JSON ``true`` is not a count), else None."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


@dataclass(frozen=True, slots=True)
class NodeInfo:
    """A peer's NodeInfo, as far as it could be read. Unknown or malformed fields are None."""

    version: str
    software_name: str
    software_version: str | None
    protocols: tuple[str, ...]
    open_registrations: bool | None
    users_total: int | None
    users_active_month: int | None
    users_active_halfyear: int | None
    local_posts: int | None
    node_name: str | None
    sharing_care: NodeMetadata | None
    metadata: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def speaks_activitypub(self) -> bool:
        """Whether the peer lists ActivityPub among its protocols."""
        return "activitypub" in self.protocols


def pick_nodeinfo_href(jrd: object) -> tuple[str, str]:
    """``(version, href)`` of the best NodeInfo document a peer's discovery JRD links.

    Some servers write the relation with ``https://``; both spellings count.
    """
    links = jrd.get("links") if isinstance(jrd, dict) else None
    if not isinstance(links, list):
        raise ParseError("$.links", "must be an array")
    found: dict[str, str] = {}
    for link in links:
        if isinstance(link, dict) and isinstance(link.get("href"), str):
            rel = str(link.get("rel", "")).removeprefix("https://").removeprefix("http://")
            found.setdefault(rel, link["href"])
    for version in VERSIONS:
        href = found.get(f"{_SCHEMA_REL.removeprefix('http://')}{version}")
        if href is not None:
            return version, href
    raise ParseError("$.links", "no NodeInfo 2.0 or 2.1 link")


def parse_nodeinfo(data: object) -> NodeInfo:
    """Read a peer's NodeInfo (any 2.x) tolerantly.

    Only ``version`` and ``software.name`` are required (:class:`ParseError`
    otherwise); everything else that is missing or mistyped becomes None.
    """
    top = _object(data, "$", {"version", "software"})
    if not isinstance(top["version"], str):
        raise ParseError("$.version", "must be a string")
    software = _object(top["software"], "$.software", {"name"})
    if not isinstance(software["name"], str) or not software["name"].strip():
        raise ParseError("$.software.name", "must be a non-empty string")
    metadata = _dict(top.get("metadata"))
    usage = _dict(top.get("usage"))
    users = _dict(usage.get("users"))
    node_name = metadata.get("nodeName")
    return NodeInfo(
        version=top["version"],
        software_name=software["name"].strip().lower(),
        software_version=_str(software.get("version")),
        protocols=_protocols(top.get("protocols")),
        open_registrations=_bool(top.get("openRegistrations")),
        users_total=_count(users.get("total")),
        users_active_month=_count(users.get("activeMonth")),
        users_active_halfyear=_count(users.get("activeHalfyear")),
        local_posts=_count(usage.get("localPosts")),
        node_name=_str(node_name),
        sharing_care=_sharing_care(metadata.get("sharingCare"), _str(node_name) or ""),
        metadata=MappingProxyType(dict(metadata)),
    )


def _protocols(value: object) -> tuple[str, ...]:
    """2.x arrays, and the 1.x/early-2.0 ``{"inbound": [...], "outbound": [...]}`` form."""
    if isinstance(value, dict):
        value = [*_list(value.get("inbound")), *_list(value.get("outbound"))]
    items = [item.lower() for item in _list(value) if isinstance(item, str)]
    return tuple(dict.fromkeys(items))


def _sharing_care(value: object, node_name: str) -> NodeMetadata | None:
    section = _dict(value)
    coop = _dict(section.get("coop"))
    name, actor = _str(coop.get("name")), _str(coop.get("actor"))
    if name is None or actor is None:
        return None
    kinds = tuple(k for k in _list(section.get("kinds")) if isinstance(k, str))
    return NodeMetadata(node_name, name, actor, _str(section.get("federation")), kinds)


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _bool(value: object) -> bool | None:
    return value if isinstance(value, bool) else None
