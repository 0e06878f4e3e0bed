"""Typed, immutable AS2 values: what `parse` produces and `serialize` consumes.

Each class keeps only the properties Sharing Care acts on; everything else a
server sends is dropped at parse time. Multi-valued properties are tuples (in
document order), absent ones are ``None`` or ``()``, so two equal documents
give equal values. IRIs are plain ``str``; times are aware ``datetime``s.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime  # noqa: TC003 (resolved at run time by get_type_hints)
from typing import TypeAlias

from protocol.keys import PublicKey  # noqa: TC001
from protocol.vocab import (  # noqa: TC001
    ActivityType,
    ActorType,
    CoopModel,
    Kind,
    LinkType,
    ObjectType,
)

__all__ = [
    "Activity",
    "Actor",
    "AnyObject",
    "Attachment",
    "Collection",
    "Image",
    "Link",
    "Object",
    "Place",
    "PropertyValue",
    "Ref",
    "Source",
    "TemplateField",
]


@dataclass(frozen=True, slots=True)
class Link:
    """A ``tag`` entry: ``Hashtag`` (``name`` "#topic"), ``Mention`` or plain ``Link``."""

    type: LinkType
    href: str | None = None
    name: str | None = None


@dataclass(frozen=True, slots=True)
class Image:
    """An actor's ``icon`` (avatar) or ``image`` (header)."""

    url: str
    media_type: str | None = None
    name: str | None = None


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file or link attached to an object (``Document``, ``Image``…, or ``Link``)."""

    type: ObjectType | LinkType
    url: str
    media_type: str | None = None
    name: str | None = None


@dataclass(frozen=True, slots=True)
class PropertyValue:
    """A Mastodon profile field (``schema:PropertyValue``); ``value`` may be HTML."""

    name: str
    value: str


@dataclass(frozen=True, slots=True)
class Source:
    """AP §3.3 ``source``: what the author typed (Markdown for our resources)."""

    content: str
    media_type: str | None = None


@dataclass(frozen=True, slots=True)
class Place:
    """An ``Event``'s ``location``; only its name matters to us."""

    name: str


@dataclass(frozen=True, slots=True)
class TemplateField:
    """``sc:TemplateField``: a ``{{name}}`` placeholder in a template's body."""

    name: str
    label: str | None = None
    required: bool = False


@dataclass(frozen=True, slots=True)
class Object:
    """Any non-actor, non-collection object: Note, Article, Event, Tombstone…

    ``content`` is the ``content`` property or, when a server sends only
    ``contentMap``, its first entry; ``content_map`` keeps every language,
    sorted by tag so equal documents compare equal.
    """

    type: ObjectType
    id: str | None = None
    kind: Kind | None = None
    name: str | None = None
    summary: str | None = None
    content: str | None = None
    content_map: tuple[tuple[str, str], ...] = ()
    media_type: str | None = None
    source: Source | None = None
    url: str | None = None
    attributed_to: tuple[str, ...] = ()
    in_reply_to: str | None = None
    context: str | None = None
    to: tuple[str, ...] = ()
    cc: tuple[str, ...] = ()
    bto: tuple[str, ...] = ()
    bcc: tuple[str, ...] = ()
    audience: tuple[str, ...] = ()
    published: datetime | None = None
    updated: datetime | None = None
    start_time: datetime | None = None
    end_time: datetime | None = None
    location: Place | None = None
    tags: tuple[Link, ...] = ()
    attachments: tuple[Attachment, ...] = ()
    sensitive: bool = False
    # Tombstone (AS2 Vocabulary §3.3).
    former_type: str | None = None
    deleted: datetime | None = None
    # Sharing Care terms (vocab.md).
    version: int | None = None
    template_fields: tuple[TemplateField, ...] = ()
    adapted_from: str | None = None
    versions: str | None = None
    items: tuple[str, ...] = ()
    accepted_answer: str | None = None
    chatham_house: bool = False
    license: str | None = None


@dataclass(frozen=True, slots=True)
class Actor:
    """An actor document, with the keys it publishes and our co-op profile terms.

    ``public_keys`` come from Mastodon's ``publicKey`` (an object or a list);
    ``assertion_methods`` from FEP-521a ``Multikey`` entries. A ``publicKey``
    given only as an IRI yields no key: the node must fetch it.
    """

    id: str
    type: ActorType
    inbox: str
    outbox: str | None = None
    followers: str | None = None
    following: str | None = None
    featured: str | None = None
    shared_inbox: str | None = None
    preferred_username: str | None = None
    name: str | None = None
    summary: str | None = None
    url: str | None = None
    icon: Image | None = None
    image: Image | None = None
    manually_approves_followers: bool = False
    discoverable: bool = False
    indexable: bool = False
    also_known_as: tuple[str, ...] = ()
    moved_to: str | None = None
    published: datetime | None = None
    fields: tuple[PropertyValue, ...] = ()
    public_keys: tuple[PublicKey, ...] = ()
    assertion_methods: tuple[PublicKey, ...] = ()
    # Co-op profile (vocab.md "Actors").
    region: str | None = None
    services: tuple[str, ...] = ()
    coop_model: CoopModel | None = None
    advises_on: tuple[str, ...] = ()
    federation: str | None = None

    @property
    def public_key(self) -> PublicKey | None:
        """The first ``publicKey``: the one Mastodon signs with."""
        return self.public_keys[0] if self.public_keys else None

    @property
    def delivery_inbox(self) -> str:
        """Where to deliver: the shared inbox when there is one (Mastodon's preference)."""
        return self.shared_inbox or self.inbox


@dataclass(frozen=True, slots=True)
class Collection:
    """``Collection``/``OrderedCollection`` and their pages (AS2 Core §5.3-5.6).

    ``items`` holds ``orderedItems`` for ordered types and ``items`` otherwise.
    ``first`` may be an embedded page (Mastodon embeds the first page of
    ``replies``) or the page's IRI.
    """

    type: ObjectType
    id: str | None = None
    total_items: int | None = None
    first: Collection | str | None = None
    last: str | None = None
    next: str | None = None
    prev: str | None = None
    part_of: str | None = None
    start_index: int | None = None
    items: tuple[Ref, ...] = ()
    attributed_to: tuple[str, ...] = ()

    @property
    def ordered(self) -> bool:
        """Whether this is an ``OrderedCollection`` or ``OrderedCollectionPage``."""
        return self.type.value.startswith("Ordered")


@dataclass(frozen=True, slots=True)
class Activity:
    """An activity. ``objects`` holds every ``object`` value, in order.

    Nearly every activity has exactly one (read it as :attr:`object`); a
    Mastodon ``Flag`` lists the reported actor and posts. Each value is an IRI
    or the embedded, parsed thing. ``content`` is a Flag's comment; Lemmy puts
    the reason in ``summary``.
    """

    type: ActivityType
    actor: str
    id: str | None = None
    objects: tuple[Ref, ...] = ()
    target: str | None = None
    to: tuple[str, ...] = ()
    cc: tuple[str, ...] = ()
    bto: tuple[str, ...] = ()
    bcc: tuple[str, ...] = ()
    audience: tuple[str, ...] = ()
    published: datetime | None = None
    content: str | None = None
    summary: str | None = None

    @property
    def object(self) -> Ref | None:
        """The first ``object`` value, or ``None`` (intransitive activities)."""
        return self.objects[0] if self.objects else None


AnyObject: TypeAlias = Object | Actor | Collection | Activity
Ref: TypeAlias = str | AnyObject
