"""Untrusted JSON → typed AS2 values, tolerating what real servers send.

Input is whatever a JSON decoder produced (or any other Python value); the
only exception that leaves this module is :class:`ParseError`, naming the JSON
path (``$.object.attributedTo[1]``). Shapes AS2 allows, and servers use, are
all accepted: one value or a list, an IRI or an embedded object, ``type`` as a
list (the first type we know wins), ``contentMap`` without ``content``.
Unknown properties are ignored; ``@context`` is not inspected. Embedded objects
nest at most ``MAX_DEPTH`` deep and lists hold at most ``MAX_ITEMS`` entries.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from protocol._read import MAX_DEPTH, MAX_ITEMS, At, Doc, as_list, iri, text, types
from protocol._values import (
    assertion_methods,
    attachments,
    fields,
    image,
    lang_map,
    place,
    public_keys,
    source,
    tags,
    template_fields,
    url,
)
from protocol.objects import Activity, Actor, AnyObject, Collection, Object, Ref
from protocol.vocab import ActivityType, ActorType, CoopModel, Kind, ObjectType

__all__ = [
    "MAX_DEPTH",
    "MAX_ITEMS",
    "parse_activity",
    "parse_actor",
    "parse_collection",
    "parse_object",
]

_ROOT = At()
_Type = ActivityType | ActorType | ObjectType
_KNOWN: dict[str, _Type] = {t.value: t for e in (ActivityType, ActorType, ObjectType) for t in e}
_COLLECTIONS = frozenset(
    {
        ObjectType.COLLECTION,
        ObjectType.ORDERED_COLLECTION,
        ObjectType.COLLECTION_PAGE,
        ObjectType.ORDERED_COLLECTION_PAGE,
    }
)
_ACTIVITIES = {t.value: t for t in ActivityType}
_ACTORS = {t.value: t for t in ActorType}
_COLLECTION_TYPES = {t.value: t for t in _COLLECTIONS}
_T = TypeVar("_T", bound=_Type)
_INTRANSITIVE = frozenset({ActivityType.ARRIVE, ActivityType.TRAVEL})  # AS2 Vocabulary §3.1


def parse_object(data: Any) -> AnyObject:
    """Any document (object, actor, activity, collection) → the matching class."""
    doc = Doc.of(data, _ROOT)
    return _build(doc, _known_type(doc, _KNOWN))


def parse_activity(data: Any) -> Activity:
    """A document that must be an activity (an inbox POST)."""
    doc = Doc.of(data, _ROOT)
    return _activity(doc, _known_type(doc, _ACTIVITIES))


def parse_actor(data: Any) -> Actor:
    """A document that must be an actor (Mastodon's five actor types)."""
    doc = Doc.of(data, _ROOT)
    return _actor(doc, _known_type(doc, _ACTORS))


def parse_collection(data: Any) -> Collection:
    """A document that must be a collection or collection page."""
    doc = Doc.of(data, _ROOT)
    return _collection(doc, _known_type(doc, _COLLECTION_TYPES))


def _known_type(doc: Doc, known: Mapping[str, _T]) -> _T:
    """The first entry of ``type`` that is in ``known``."""
    names = types(*doc.get("type"))
    found = _first_of(names, known)
    if found is None:
        raise doc.at.key("type").error(f"no type we accept here: {', '.join(names)[:200]}")
    return found


def _first_of(names: list[str], known: Mapping[str, _T]) -> _T | None:
    return next((known[name] for name in names if name in known), None)


def _build(doc: Doc, kind: _Type) -> AnyObject:
    if isinstance(kind, ActivityType):
        return _activity(doc, kind)
    if isinstance(kind, ActorType):
        return _actor(doc, kind)
    if kind in _COLLECTIONS:
        return _collection(doc, kind)
    return _object(doc, kind)


def _ref(value: Any, at: At) -> Ref:
    """An ``object``/``items`` entry: an IRI, or an embedded object of a type we know.

    An embedded object of a type we do not know is kept as a reference to its
    ``id`` (the node may fetch it, or ignore it).
    """
    if isinstance(value, Mapping) and value.get("type") is not None:
        names = types(*Doc(value, at).get("type"))
        kind = _first_of(names, _KNOWN)
        if kind is not None:
            return _build(Doc(value, at.deeper()), kind)
        if value.get("id") is None:
            raise at.key("type").error(f"an object of unknown type {names[0][:100]!r} without id")
    found = iri(value, at)
    if found is None:
        raise at.error("required")
    return found


def _refs(value: Any, at: At) -> tuple[Ref, ...]:
    return tuple(_ref(item, where) for item, where in as_list(value, at))


def _activity(doc: Doc, kind: ActivityType) -> Activity:
    actors = doc.iris("actor")  # AS2 allows several; servers send one.
    if not actors:
        raise doc.at.key("actor").error("required")
    objects = _refs(*doc.get("object"))
    if not objects and kind not in _INTRANSITIVE:
        raise doc.at.key("object").error("required")
    return Activity(
        type=kind,
        actor=actors[0],
        id=doc.iri("id"),
        objects=objects,
        target=doc.iri("target"),
        to=doc.addresses("to"),
        cc=doc.addresses("cc"),
        bto=doc.addresses("bto"),
        bcc=doc.addresses("bcc"),
        audience=doc.iris("audience"),
        published=doc.time("published"),
        content=doc.text("content"),
        summary=doc.text("summary"),
    )


def _actor(doc: Doc, kind: ActorType) -> Actor:
    return Actor(
        id=doc.required_iri("id"),
        type=kind,
        inbox=doc.required_iri("inbox"),
        outbox=doc.iri("outbox"),
        followers=doc.iri("followers"),
        following=doc.iri("following"),
        featured=doc.iri("featured"),
        shared_inbox=_shared_inbox(doc),
        preferred_username=doc.text("preferredUsername"),
        name=doc.text("name"),
        summary=doc.text("summary"),
        url=url(*doc.get("url")),
        icon=image(*doc.get("icon")),
        image=image(*doc.get("image")),
        manually_approves_followers=doc.flag("manuallyApprovesFollowers"),
        discoverable=doc.flag("discoverable"),
        indexable=doc.flag("indexable"),
        also_known_as=doc.iris("alsoKnownAs"),
        moved_to=doc.iri("movedTo"),
        published=doc.time("published"),
        fields=fields(*doc.get("attachment")),
        public_keys=public_keys(*doc.get("publicKey")),
        assertion_methods=assertion_methods(*doc.get("assertionMethod")),
        region=doc.text("region"),
        services=doc.strings("services"),
        coop_model=doc.member("coopModel", CoopModel),
        advises_on=doc.strings("advisesOn"),
        federation=doc.iri("federation"),
    )


def _shared_inbox(doc: Doc) -> str | None:
    """``endpoints.sharedInbox``, or a top-level ``sharedInbox`` (Mastodon reads both)."""
    endpoints, at = doc.get("endpoints")
    if isinstance(endpoints, Mapping) and endpoints.get("sharedInbox") is not None:
        return Doc(endpoints, at).iri("sharedInbox")
    return doc.iri("sharedInbox")


def _object(doc: Doc, kind: ObjectType) -> Object:
    languages = lang_map(*doc.get("contentMap"))
    return Object(
        type=kind,
        id=doc.iri("id"),
        kind=doc.member("kind", Kind),
        name=doc.text("name"),
        summary=doc.text("summary"),
        content=doc.text("content") or next((html for _, html in languages if html), None),
        content_map=tuple(sorted(languages)),
        media_type=doc.text("mediaType"),
        source=source(*doc.get("source")),
        url=url(*doc.get("url")),
        attributed_to=doc.iris("attributedTo"),
        in_reply_to=doc.iri("inReplyTo"),
        context=_context(*doc.get("context")),
        to=doc.addresses("to"),
        cc=doc.addresses("cc"),
        bto=doc.addresses("bto"),
        bcc=doc.addresses("bcc"),
        audience=doc.iris("audience"),
        published=doc.time("published"),
        updated=doc.time("updated"),
        start_time=doc.time("startTime"),
        end_time=doc.time("endTime"),
        location=place(*doc.get("location")),
        tags=tags(*doc.get("tag")),
        attachments=attachments(*doc.get("attachment")),
        sensitive=doc.flag("sensitive"),
        former_type=doc.text("formerType"),
        deleted=doc.time("deleted"),
        version=doc.integer("version", minimum=1),
        template_fields=template_fields(*doc.get("templateFields")),
        adapted_from=doc.iri("adaptedFrom"),
        versions=doc.iri("versions"),
        items=doc.iris("toolkitItems"),
        accepted_answer=doc.iri("acceptedAnswer"),
        chatham_house=doc.flag("chathamHouse"),
        license=doc.iri("license"),
    )


def _context(value: Any, at: At) -> str | None:
    """FEP-7888 ``context``: usually an IRI, but Pleroma sends ``tag:`` URIs; keep any string."""
    return iri(value, at) if isinstance(value, Mapping) else text(value, at)


def _collection(doc: Doc, kind: ObjectType) -> Collection:
    ordered = kind.value.startswith("Ordered")
    main, other = ("orderedItems", "items") if ordered else ("items", "orderedItems")
    key = main if doc.data.get(main) is not None else other
    return Collection(
        type=kind,
        id=doc.iri("id"),
        total_items=doc.integer("totalItems"),
        first=_first(*doc.get("first")),
        last=doc.iri("last"),
        next=doc.iri("next"),
        prev=doc.iri("prev"),
        part_of=doc.iri("partOf"),
        start_index=doc.integer("startIndex"),
        items=_refs(*doc.get(key)),
        attributed_to=doc.iris("attributedTo"),
    )


def _first(value: Any, at: At) -> Collection | str | None:
    """``first``: a page IRI, or the embedded page itself (Mastodon ``replies``)."""
    if isinstance(value, Mapping) and value.get("type") is not None:
        kind = _first_of(types(*Doc(value, at).get("type")), _COLLECTION_TYPES)
        if kind is not None:
            return _collection(Doc(value, at.deeper()), kind)
    return iri(value, at)
