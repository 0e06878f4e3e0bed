"""WebFinger (RFC 7033): handles, the JRDs we serve, and reading the ones we fetch.

Mastodon finds an account only through WebFinger, and trusts an actor only if
WebFinger on ``preferredUsername@<actor host>`` loops back to the actor's
``id`` (fetch_remote_actor_service.rb#check_webfinger!), so every actor we
serve needs a JRD in exactly Mastodon's shape, and every remote actor we
accept gets the same round-trip check (:func:`check_loopback`).

Server-level discovery follows FEP-d556: ``resource=<base>/`` answers with the
application actor. host-meta (XRD and JRD) is served for the older clients
that look for the ``lrdd`` template first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlencode, urlsplit
from xml.sax.saxutils import quoteattr

from protocol.errors import WebFingerError
from protocol.vocab import MediaType

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

__all__ = [
    "PROFILE_PAGE_REL",
    "SERVICE_REL",
    "SUBSCRIBE_REL",
    "AccountResource",
    "ActorResource",
    "ForeignResource",
    "Handle",
    "Resource",
    "ServerResource",
    "actor_jrd",
    "check_loopback",
    "host_meta_jrd",
    "host_meta_xrd",
    "parse_handle",
    "parse_resource",
    "pick_self_link",
    "server_jrd",
    "webfinger_url",
]

PROFILE_PAGE_REL: Final = "http://webfinger.net/rel/profile-page"
SUBSCRIBE_REL: Final = "http://ostatus.org/schema/1.0/subscribe"
# FEP-d556 §Discovery: the relation for a server-level actor.
SERVICE_REL: Final = "https://www.w3.org/ns/activitystreams#Service"

# RFC 7565 §7 userpart: unreserved / sub-delims (percent-encoding not accepted).
_NAME = re.compile(r"[A-Za-z0-9._~!$&'()*+,;=-]+")
_LABEL = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")
_PORT = re.compile(r"[0-9]{1,5}")
_AS2_PROFILE = re.compile(r'profile\s*=\s*"?https://www\.w3\.org/ns/activitystreams"?')


@dataclass(frozen=True, slots=True)
class Handle:
    """``name@host``: ``host`` is lower-case ASCII (IDNA), with a port if one was given."""

    name: str
    host: str

    @property
    def acct(self) -> str:
        """The ``acct:`` URI (RFC 7565), the JRD ``subject``."""
        return f"acct:{self.name}@{self.host}"

    def __str__(self) -> str:
        return f"@{self.name}@{self.host}"


def parse_handle(text: str) -> Handle:
    """Read ``@name@host``, ``name@host`` or ``acct:name@host``.

    Surrounding whitespace is ignored (handles are pasted); anything else odd
    is refused with :class:`WebFingerError`, never passed on to a request URL.
    """
    value = text.strip()
    if value[:5].lower() == "acct:":
        value = value[5:]
    elif value.startswith("@"):
        value = value[1:]
    if value.count("@") != 1:
        raise WebFingerError(
            f"handle {_shown(text)} must have exactly one '@' between name and host"
        )
    name, host = value.split("@")
    if not name or not host:
        raise WebFingerError(f"handle {_shown(text)} has an empty name or host")
    if not _NAME.fullmatch(name):
        raise WebFingerError(f"handle {_shown(text)}: the name has characters a handle cannot have")
    return Handle(name, _normalise_host(host, text))


def _shown(text: str) -> str:
    """Untrusted input as quoted in an error message: repr, cut to a readable length."""
    return repr(text if len(text) <= 80 else f"{text[:80]}...")


def _normalise_host(host: str, text: str) -> str:
    """Lower-case ASCII host with an optional port (``localhost:8001`` for development)."""
    domain, colon, port = host.partition(":")
    try:
        ascii_domain = domain.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise WebFingerError(f"handle {_shown(text)} has an invalid host") from None
    labels = ascii_domain.split(".")
    if len(ascii_domain) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        raise WebFingerError(f"handle {_shown(text)} has an invalid host")
    if colon and (not _PORT.fullmatch(port) or not 0 < int(port) < 65536):
        raise WebFingerError(f"handle {_shown(text)} has an invalid port")
    return f"{ascii_domain}:{port}" if port else ascii_domain


def webfinger_url(handle: Handle, scheme: str = "https") -> str:
    """The WebFinger query for ``handle`` (RFC 7033 §4.1, resource percent-encoded)."""
    if scheme not in ("https", "http"):
        raise WebFingerError(f"WebFinger scheme must be https or http, not {scheme!r}")
    query = urlencode({"resource": handle.acct})
    return f"{scheme}://{handle.host}/.well-known/webfinger?{query}"


def actor_jrd(
    handle: Handle,
    actor_id: str,
    profile_url: str,
    subscribe_template: str | None = None,
    aliases: Iterable[str] = (),
) -> dict[str, Any]:
    """The JRD for one of our actors, shaped as Mastodon's webfinger_controller.rb.

    ``aliases`` are listed after Mastodon's two (profile page, actor id);
    ``subscribe_template`` (``https://host/authorize_interaction?uri={uri}``)
    adds the OStatus remote-follow link when the node offers that page.
    """
    links: list[dict[str, str]] = [
        {"rel": PROFILE_PAGE_REL, "type": "text/html", "href": profile_url},
        {"rel": "self", "type": MediaType.ACTIVITY_JSON.value, "href": actor_id},
    ]
    if subscribe_template is not None:
        links.append({"rel": SUBSCRIBE_REL, "template": subscribe_template})
    return {
        "subject": handle.acct,
        "aliases": list(dict.fromkeys((profile_url, actor_id, *aliases))),
        "links": links,
    }


def server_jrd(base_url: str, application_actor_id: str) -> dict[str, Any]:
    """FEP-d556 answer to ``resource=<base_url>/``: the application actor.

    The FEP names ``as#Service`` as the relation and allows ``self`` when the
    server resource has no user actor (ours never has), which is what
    Mastodon-style clients look for; both links are given.
    """
    subject = f"{_origin(base_url)}/"
    return {
        "subject": subject,
        "aliases": [application_actor_id],
        "links": [
            {
                "rel": SERVICE_REL,
                "type": MediaType.ACTIVITY_JSON.value,
                "href": application_actor_id,
            },
            {"rel": "self", "type": MediaType.ACTIVITY_JSON.value, "href": application_actor_id},
        ],
    }


def host_meta_xrd(base_url: str) -> str:
    """``/.well-known/host-meta`` (RFC 6415): the XRD with the ``lrdd`` template."""
    template = quoteattr(_lrdd_template(base_url))
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<XRD xmlns="http://docs.oasis-open.org/ns/xri/xrd-1.0">\n'
        f'  <Link rel="lrdd" template={template}/>\n'
        "</XRD>\n"
    )


def host_meta_jrd(base_url: str) -> dict[str, Any]:
    """``/.well-known/host-meta.json`` (RFC 6415 §3): the same template as JSON."""
    return {"links": [{"rel": "lrdd", "template": _lrdd_template(base_url)}]}


def _lrdd_template(base_url: str) -> str:
    return f"{_origin(base_url)}/.well-known/webfinger?resource={{uri}}"


def _origin(base_url: str) -> str:
    """``scheme://host[:port]`` of a base URL; WebFinger lives at the origin's root."""
    parts = urlsplit(base_url)
    if parts.scheme not in ("https", "http") or not parts.netloc:
        raise WebFingerError(f"base URL {base_url!r} must be an absolute http(s) URL")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise WebFingerError(f"base URL {base_url!r} must be an origin, without a path")
    return f"{parts.scheme}://{parts.netloc.lower()}"


def pick_self_link(jrd: object) -> str:
    """The ActivityPub actor IRI in a fetched JRD.

    The ``self`` link typed ``application/activity+json`` wins; the JSON-LD
    type with the AS2 profile (ActivityPub §3.2) is accepted as the fallback.
    Malformed entries are skipped; a JRD that is not an object with a
    ``links`` array, or has no usable link, is a :class:`WebFingerError`.
    """
    links = _links(jrd)
    preferred = [link["href"] for link in links if _media(link) == "activity"]
    fallback = [link["href"] for link in links if _media(link) == "ld"]
    for href in (*preferred, *fallback):
        if urlsplit(href).scheme in ("https", "http"):
            return str(href)
    raise WebFingerError("JRD has no 'self' link to an ActivityPub actor")


def _links(jrd: object) -> list[Mapping[str, Any]]:
    if not isinstance(jrd, dict):
        raise WebFingerError("JRD is not a JSON object")
    links = jrd.get("links")
    if not isinstance(links, list):
        raise WebFingerError("JRD has no 'links' array")
    return [
        link
        for link in links
        if isinstance(link, dict)
        and link.get("rel") == "self"
        and isinstance(link.get("href"), str)
    ]


def _media(link: Mapping[str, Any]) -> str | None:
    kind = link.get("type")
    if not isinstance(kind, str):
        return None
    essence, _, params = kind.partition(";")
    essence = essence.strip().lower()
    if essence == MediaType.ACTIVITY_JSON.value:
        return "activity"
    if essence == "application/ld+json" and _AS2_PROFILE.search(params):
        return "ld"
    return None


def check_loopback(jrd: object, handle: Handle, actor_id: str) -> None:
    """Mastodon's round trip: the JRD for ``handle`` must name ``handle`` and ``actor_id``.

    ``subject`` must be ``handle``'s ``acct:`` URI (compared case-insensitively,
    as Mastodon does) and the ``self`` link must be exactly ``actor_id``.
    Mastodon follows one redirect when the subject names another account; the
    node can do the same by re-querying ``parse_handle(jrd["subject"])``.
    """
    subject = jrd.get("subject") if isinstance(jrd, dict) else None
    if not isinstance(subject, str):
        raise WebFingerError("JRD has no 'subject'")
    named = parse_handle(subject)  # Mastodon strips an optional "acct:" here too
    if (named.name.lower(), named.host) != (handle.name.lower(), handle.host):
        raise WebFingerError(f"JRD subject {_shown(subject)} is not {handle.acct!r}")
    href = pick_self_link(jrd)
    if href != actor_id:
        raise WebFingerError(f"WebFinger for {handle} does not loop back to {actor_id}")


@dataclass(frozen=True, slots=True)
class AccountResource:
    """``resource=acct:name@<our host>``: look the account up by name."""

    handle: Handle


@dataclass(frozen=True, slots=True)
class ActorResource:
    """``resource=<one of our URLs>``: an actor id or profile page to look up."""

    url: str


@dataclass(frozen=True, slots=True)
class ServerResource:
    """``resource=<our base URL>/``: FEP-d556 server-level discovery."""

    url: str


@dataclass(frozen=True, slots=True)
class ForeignResource:
    """A well-formed resource on another host: answer 404, as Mastodon does."""

    host: str


Resource = AccountResource | ActorResource | ServerResource | ForeignResource


def parse_resource(query_value: str, local_host: str) -> Resource:
    """Interpret an incoming ``resource`` parameter (already percent-decoded).

    ``local_host`` is our host with its port, if not the default
    (``coop.example``, ``localhost:8001``). Malformed values raise
    :class:`WebFingerError` (answer 400); well-formed ones for other hosts come
    back as :class:`ForeignResource` (answer 404).
    """
    local = local_host.lower()
    scheme, colon, _ = query_value.partition(":")
    scheme = scheme.lower()
    if scheme in ("https", "http"):
        return _url_resource(query_value, local)
    if colon and scheme != "acct" and "@" not in scheme:  # "mailto:", "did:", ...
        raise WebFingerError(f"resource {_shown(query_value)} has an unsupported scheme")
    handle = parse_handle(query_value)
    return AccountResource(handle) if handle.host == local else ForeignResource(handle.host)


def _url_resource(value: str, local: str) -> Resource:
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        raise WebFingerError(f"resource {_shown(value)} is not a valid URL") from None
    if not parts.hostname or parts.username is not None or parts.fragment:
        raise WebFingerError(f"resource {_shown(value)} is not a usable URL")
    default = {"https": 443, "http": 80}[parts.scheme.lower()]
    host = parts.hostname if port in (None, default) else f"{parts.hostname}:{port}"
    if host != local:
        return ForeignResource(host)
    if parts.path in ("", "/") and not parts.query:
        return ServerResource(f"{parts.scheme.lower()}://{local}/")
    return ActorResource(value)
