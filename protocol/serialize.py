"""Typed AS2 values → JSON documents with our ``@context``, byte-for-byte stable.

`to_json` gives the document as plain dicts and lists; `dumps` gives the bytes
we send and sign. Only properties that are set appear (no ``null``s, no empty
lists), ``@context`` appears once at the top, and keys are sorted, so the same
value always produces the same bytes and a signature over them can be checked
again later. ``parse`` reads back exactly what this writes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from protocol.keys import multikey_document, public_key_document
from protocol.objects import (
    Activity,
    Actor,
    AnyObject,
    Attachment,
    Collection,
    Image,
    Link,
    Object,
    PropertyValue,
    Ref,
    Source,
    TemplateField,
)
from protocol.vocab import LinkType, context

__all__ = ["dumps", "to_json"]


def to_json(obj: AnyObject) -> dict[str, Any]:
    """The full document: ``@context`` first, then the object's own properties."""
    return {"@context": context(), **_node(obj)}


def dumps(doc: AnyObject | Mapping[str, Any]) -> bytes:
    """Canonical bytes: sorted keys, no whitespace, UTF-8 (non-ASCII kept as is).

    Takes a value (serialized with `to_json`) or an already built document,
    e.g. the result of ``audience.strip_private(to_json(activity))``.
    """
    data = doc if isinstance(doc, Mapping) else to_json(doc)
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _node(obj: AnyObject) -> dict[str, Any]:
    if isinstance(obj, Activity):
        return _activity(obj)
    if isinstance(obj, Actor):
        return _actor(obj)
    if isinstance(obj, Collection):
        return _collection(obj)
    return _object(obj)


def _compact(pairs: dict[str, Any]) -> dict[str, Any]:
    """Drop unset properties: ``None`` and empty strings, lists and objects (not 0)."""
    return {
        key: value
        for key, value in pairs.items()
        if value is not None and not (isinstance(value, str | list | dict) and not value)
    }


def _one_or_many(values: tuple[str, ...]) -> str | list[str] | None:
    """A single value bare (what Mastodon itself sends for ``attributedTo``), else a list."""
    if not values:
        return None
    return values[0] if len(values) == 1 else list(values)


def _time(value: datetime | None) -> str | None:
    """xsd:dateTime in UTC with a ``Z`` (``2024-05-01T09:30:00Z``)."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _ref(value: Ref) -> str | dict[str, Any]:
    return value if isinstance(value, str) else _node(value)


def _activity(a: Activity) -> dict[str, Any]:
    refs = [_ref(item) for item in a.objects]
    return _compact(
        {
            "id": a.id,
            "type": a.type.value,
            "actor": a.actor,
            "object": refs[0] if len(refs) == 1 else refs,
            "target": a.target,
            "to": list(a.to),
            "cc": list(a.cc),
            "bto": list(a.bto),
            "bcc": list(a.bcc),
            "audience": _one_or_many(a.audience),
            "published": _time(a.published),
            "content": a.content,
            "summary": a.summary,
        }
    )


def _actor(a: Actor) -> dict[str, Any]:
    keys = [public_key_document(key) for key in a.public_keys]
    return _compact(
        {
            "id": a.id,
            "type": a.type.value,
            "inbox": a.inbox,
            "outbox": a.outbox,
            "followers": a.followers,
            "following": a.following,
            "featured": a.featured,
            "endpoints": {"sharedInbox": a.shared_inbox} if a.shared_inbox else None,
            "preferredUsername": a.preferred_username,
            "name": a.name,
            "summary": a.summary,
            "url": a.url,
            "icon": _image(a.icon),
            "image": _image(a.image),
            # Always sent: Mastodon shows a lock, and lists profiles, only on an explicit true.
            "manuallyApprovesFollowers": a.manually_approves_followers,
            "discoverable": a.discoverable,
            "indexable": a.indexable,
            "alsoKnownAs": list(a.also_known_as),
            "movedTo": a.moved_to,
            "published": _time(a.published),
            "attachment": [_property_value(field) for field in a.fields],
            "publicKey": keys[0] if len(keys) == 1 else keys,
            "assertionMethod": [multikey_document(key) for key in a.assertion_methods],
            "region": a.region,
            "services": list(a.services),
            "coopModel": a.coop_model.value if a.coop_model else None,
            "advisesOn": list(a.advises_on),
            "federation": a.federation,
        }
    )


def _collection(c: Collection) -> dict[str, Any]:
    first = c.first if c.first is None or isinstance(c.first, str) else _collection(c.first)
    return _compact(
        {
            "id": c.id,
            "type": c.type.value,
            "totalItems": c.total_items,
            "first": first,
            "last": c.last,
            "next": c.next,
            "prev": c.prev,
            "partOf": c.part_of,
            "startIndex": c.start_index,
            "orderedItems" if c.ordered else "items": [_ref(item) for item in c.items],
            "attributedTo": _one_or_many(c.attributed_to),
        }
    )


def _object(o: Object) -> dict[str, Any]:
    return _compact(
        {
            "id": o.id,
            "type": o.type.value,
            "kind": o.kind.value if o.kind else None,
            "name": o.name,
            "summary": o.summary,
            "content": o.content,
            "contentMap": dict(o.content_map),
            "mediaType": o.media_type,
            "source": _source(o.source),
            "url": o.url,
            "attributedTo": _one_or_many(o.attributed_to),
            "inReplyTo": o.in_reply_to,
            "context": o.context,
            "to": list(o.to),
            "cc": list(o.cc),
            "bto": list(o.bto),
            "bcc": list(o.bcc),
            "audience": _one_or_many(o.audience),
            "published": _time(o.published),
            "updated": _time(o.updated),
            "startTime": _time(o.start_time),
            "endTime": _time(o.end_time),
            "location": {"type": "Place", "name": o.location.name} if o.location else None,
            "tag": [_link(tag) for tag in o.tags],
            "attachment": [_attachment(item) for item in o.attachments],
            "sensitive": o.sensitive or None,
            "formerType": o.former_type,
            "deleted": _time(o.deleted),
            "version": o.version,
            "templateFields": [_template_field(field) for field in o.template_fields],
            "adaptedFrom": o.adapted_from,
            "versions": o.versions,
            "toolkitItems": list(o.items),
            "acceptedAnswer": o.accepted_answer,
            "chathamHouse": o.chatham_house or None,
            "license": o.license,
        }
    )


def _source(source: Source | None) -> dict[str, str] | None:
    if source is None:
        return None
    media = {"mediaType": source.media_type} if source.media_type else {}
    return {"content": source.content, **media}  # content kept even when empty


def _link(tag: Link) -> dict[str, Any]:
    return _compact({"type": tag.type.value, "href": tag.href, "name": tag.name})


def _image(image: Image | None) -> dict[str, Any] | None:
    if image is None:
        return None
    return _compact(
        {"type": "Image", "url": image.url, "mediaType": image.media_type, "name": image.name}
    )


def _attachment(item: Attachment) -> dict[str, Any]:
    key = "href" if isinstance(item.type, LinkType) else "url"
    return _compact(
        {"type": item.type.value, key: item.url, "mediaType": item.media_type, "name": item.name}
    )


def _property_value(field: PropertyValue) -> dict[str, str]:
    return {"type": "PropertyValue", "name": field.name, "value": field.value}


def _template_field(field: TemplateField) -> dict[str, Any]:
    return _compact(
        {
            "type": "TemplateField",
            "name": field.name,
            "label": field.label,
            "required": field.required,
        }
    )
