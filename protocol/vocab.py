"""The words on the wire: AS2 types, the public address, media types, our ``sc`` terms.

Every other module names types through these enums, so a typo is an import
error rather than a silently unmatched string. ``CONTEXT`` is the exact
``@context`` of every document we send (vocab.md): the three remote contexts
are vendored under ``protocol/contexts/`` and every ``sc`` term is defined
inline, so no consumer has to fetch our namespace.
"""

from __future__ import annotations

from enum import StrEnum
from types import MappingProxyType
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = [
    "ACTIVITYSTREAMS",
    "CONTEXT",
    "INLINE_TERMS",
    "MULTIKEY_V1",
    "PUBLIC",
    "PUBLIC_ADDRESSES",
    "SC_NS",
    "SC_PREFIX",
    "SECURITY_V1",
    "ActivityType",
    "ActorType",
    "CoopModel",
    "Kind",
    "LinkType",
    "MediaType",
    "ObjectType",
    "context",
]

ACTIVITYSTREAMS: Final = "https://www.w3.org/ns/activitystreams"
SECURITY_V1: Final = "https://w3id.org/security/v1"
MULTIKEY_V1: Final = "https://w3id.org/security/multikey/v1"
SC_NS: Final = "https://w3id.org/sharing-care/ns#"
SC_PREFIX: Final = "sc"

# AS2 §5.6 "Public Addressing"; Mastodon tag_manager.rb#public_collection? also
# accepts the compacted spellings, and so do we. We only ever send the full IRI.
PUBLIC: Final = "https://www.w3.org/ns/activitystreams#Public"
PUBLIC_ADDRESSES: Final = frozenset({PUBLIC, "as:Public", "Public"})


class MediaType(StrEnum):
    """Content types for AS2 documents (ActivityPub §3.2)."""

    ACTIVITY_JSON = "application/activity+json"
    LD_JSON = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'


class ActivityType(StrEnum):
    """AS2 Vocabulary §3.1 activity types (``Question`` lives in ObjectType: polls)."""

    ACCEPT = "Accept"
    ADD = "Add"
    ANNOUNCE = "Announce"
    ARRIVE = "Arrive"
    BLOCK = "Block"
    CREATE = "Create"
    DELETE = "Delete"
    DISLIKE = "Dislike"
    FLAG = "Flag"
    FOLLOW = "Follow"
    IGNORE = "Ignore"
    INVITE = "Invite"
    JOIN = "Join"
    LEAVE = "Leave"
    LIKE = "Like"
    LISTEN = "Listen"
    MOVE = "Move"
    OFFER = "Offer"
    READ = "Read"
    REJECT = "Reject"
    REMOVE = "Remove"
    TENTATIVE_ACCEPT = "TentativeAccept"
    TENTATIVE_REJECT = "TentativeReject"
    TRAVEL = "Travel"
    UNDO = "Undo"
    UPDATE = "Update"
    VIEW = "View"


class ActorType(StrEnum):
    """AS2 Vocabulary §3.2; exactly the set Mastodon accepts (SUPPORTED_TYPES)."""

    APPLICATION = "Application"
    GROUP = "Group"
    ORGANIZATION = "Organization"
    PERSON = "Person"
    SERVICE = "Service"


class ObjectType(StrEnum):
    """AS2 Vocabulary §3.3 object types, plus the collection types of AS2 Core §5."""

    ARTICLE = "Article"
    AUDIO = "Audio"
    DOCUMENT = "Document"
    EVENT = "Event"
    IMAGE = "Image"
    NOTE = "Note"
    PAGE = "Page"
    PLACE = "Place"
    PROFILE = "Profile"
    QUESTION = "Question"
    RELATIONSHIP = "Relationship"
    TOMBSTONE = "Tombstone"
    VIDEO = "Video"
    COLLECTION = "Collection"
    ORDERED_COLLECTION = "OrderedCollection"
    COLLECTION_PAGE = "CollectionPage"
    ORDERED_COLLECTION_PAGE = "OrderedCollectionPage"


class LinkType(StrEnum):
    """AS2 ``Link`` and the two link subtypes used in ``tag``."""

    LINK = "Link"
    MENTION = "Mention"
    HASHTAG = "Hashtag"  # as:Hashtag, defined inline (not in the AS2 context)


class Kind(StrEnum):
    """``sc:kind``: what a Sharing Care object is, on top of its plain AS2 type."""

    RESOURCE = "Resource"
    TEMPLATE = "Template"
    TOOLKIT = "Toolkit"
    QUESTION = "Question"
    ANSWER = "Answer"
    EVENT = "Event"


class CoopModel(StrEnum):
    """``sc:coopModel`` on a co-op ``Group`` actor."""

    WORKER = "worker"
    MULTI_STAKEHOLDER = "multi-stakeholder"
    COMMUNITY = "community"


def _id(iri: str, container: str | None = None) -> Mapping[str, str]:
    """A term whose string values are IRIs (JSON-LD 1.1 §4.2.3 type coercion)."""
    term = {"@id": iri, "@type": "@id"}
    return MappingProxyType(term | {"@container": container} if container else term)


# The inline (third) element of CONTEXT. Term names are the JSON keys we emit.
# `toolkitItems` (not `items`): a term `items` would shadow as:items and break
# every Collection serialized under this context.
INLINE_TERMS: Final[Mapping[str, str | Mapping[str, str]]] = MappingProxyType(
    {
        "sc": SC_NS,
        "toot": "http://joinmastodon.org/ns#",
        "schema": "http://schema.org#",
        # Mastodon's own inline terms (docs spec/activitypub.md).
        "manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
        "sensitive": "as:sensitive",
        "Hashtag": "as:Hashtag",
        "PropertyValue": "schema:PropertyValue",
        "value": "schema:value",
        "discoverable": "toot:discoverable",
        "indexable": "toot:indexable",
        "featured": _id("toot:featured"),
        "alsoKnownAs": _id("as:alsoKnownAs"),
        "movedTo": _id("as:movedTo"),
        # FEP-521a: Multikey keys live in assertionMethod (a did/v1 term we do not import).
        "assertionMethod": _id("https://w3id.org/security#assertionMethod", "@set"),
        # Sharing Care terms (vocab.md).
        "kind": "sc:kind",
        "region": "sc:region",
        "services": "sc:services",
        "coopModel": "sc:coopModel",
        "advisesOn": "sc:advisesOn",
        "federation": _id("sc:federation"),
        "version": "sc:version",
        "templateFields": MappingProxyType({"@id": "sc:templateFields", "@container": "@list"}),
        "TemplateField": "sc:TemplateField",
        "label": "sc:label",
        "required": "sc:required",
        "adaptedFrom": _id("sc:adaptedFrom"),
        "versions": _id("sc:versions"),
        "toolkitItems": _id("sc:items", "@list"),
        "acceptedAnswer": _id("sc:acceptedAnswer"),
        "chathamHouse": "sc:chathamHouse",
        # FEP-c118 names no property (it is a discussion draft), so: sc:license, an SPDX IRI.
        "license": _id("sc:license"),
    }
)

CONTEXT: Final = (ACTIVITYSTREAMS, SECURITY_V1, MULTIKEY_V1, INLINE_TERMS)


def context() -> list[object]:
    """``CONTEXT`` as fresh JSON values (lists and dicts), safe to embed and mutate."""
    terms = {k: v if isinstance(v, str) else dict(v) for k, v in INLINE_TERMS.items()}
    return [ACTIVITYSTREAMS, SECURITY_V1, MULTIKEY_V1, terms]
