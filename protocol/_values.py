"""Readers for the small structured values inside AS2 objects.

Tags, attachments, images, profile fields, keys, template fields: each reader
takes an untrusted value and its path and returns our typed values, skipping
entries of types we do not use (Mastodon's ``Emoji`` tags, ``PropertyValue``
attachments on posts) and raising :class:`ParseError` for malformed ones.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from protocol._read import At, Doc, as_list, flag, is_http_iri, string, text, types
from protocol.errors import KeyFormatError
from protocol.keys import PublicKey, read_multikey, read_public_key_document
from protocol.objects import Attachment, Image, Link, Place, PropertyValue, Source, TemplateField
from protocol.vocab import LinkType, ObjectType

__all__ = [
    "assertion_methods",
    "attachments",
    "fields",
    "image",
    "lang_map",
    "place",
    "public_keys",
    "source",
    "tags",
    "template_fields",
    "url",
]

_FILE_TYPES = {
    t.value: t for t in (ObjectType.DOCUMENT, ObjectType.IMAGE, ObjectType.AUDIO, ObjectType.VIDEO)
}
_LINK_TYPES = {t.value: t for t in LinkType}
_ATTACHMENT_TYPES: dict[str, ObjectType | LinkType] = {**_FILE_TYPES, **_LINK_TYPES}
_PROPERTY_VALUE = {"PropertyValue": True}
_MULTIKEY = {"Multikey": True}
_T = TypeVar("_T")
_MAX_PEM = 16_384  # a 16384-bit RSA key is under 3 kB of PEM
_MAX_MULTIBASE = 2_048  # base58 decoding is quadratic: keep it short (RSA-4096 is ~750)


def lang_map(value: Any, at: At) -> tuple[tuple[str, str], ...]:
    """``contentMap``: language tag → HTML, in document order."""
    if value is None:
        return ()
    doc = Doc.of(value, at)
    return tuple((string(lang, at), string(html, at.key(lang))) for lang, html in doc.data.items())


def url(value: Any, at: At) -> str | None:
    """``url``: a string, a ``Link``, or a list of them (PeerTube).

    The first HTML link wins, else the first link; hrefs that are not http(s)
    (``magnet:``, ``ipfs:``) are passed over rather than refused.
    """
    found = [link for item, where in as_list(value, at) if (link := _href(item, where))]
    html = [href for href, media in found if media in {None, "text/html"}]
    return html[0] if html else (found[0][0] if found else None)


def _href(value: Any, at: At) -> tuple[str, str | None] | None:
    media = None
    if isinstance(value, Mapping):
        doc = Doc(value, at)
        media = doc.text("mediaType")
        value, at = doc.get("href")
    href = text(value, at)
    return (href, media) if href is not None and is_http_iri(href) else None


def image(value: Any, at: At) -> Image | None:
    """``icon``/``image``: an ``Image`` object, a bare URL, or a list (first usable wins)."""
    for item, where in as_list(value, at):
        if not isinstance(item, Mapping):
            found = url(item, where)
            if found:
                return Image(found)
            continue
        doc = Doc(item, where)
        found = url(*doc.get("url"))
        if found:
            return Image(found, doc.text("mediaType"), doc.text("name"))
    return None


def tags(value: Any, at: At) -> tuple[Link, ...]:
    """``tag``: Hashtags, Mentions and Links; other tag types (``Emoji``) are skipped."""
    out = []
    for item, where in as_list(value, at):
        if isinstance(item, str):
            continue  # a bare IRI says nothing we can use
        doc = Doc.of(item, where)
        kind = _first_known(doc, _LINK_TYPES)
        if kind is not None:
            out.append(Link(kind, doc.iri("href"), doc.text("name")))
    return tuple(out)


def attachments(value: Any, at: At) -> tuple[Attachment, ...]:
    """``attachment``: files (Document/Image/Audio/Video) and Links; others skipped."""
    out = []
    for item, where in as_list(value, at):
        doc = Doc.of(item, where)
        kind = _first_known(doc, _ATTACHMENT_TYPES)
        if kind is None:
            continue
        key = "href" if isinstance(kind, LinkType) else "url"
        found = url(*doc.get(key))
        if found is None:
            raise where.key(key).error("an attachment needs an http(s) URL")
        out.append(Attachment(kind, found, doc.text("mediaType"), doc.text("name")))
    return tuple(out)


def fields(value: Any, at: At) -> tuple[PropertyValue, ...]:
    """Mastodon profile fields: the ``PropertyValue`` entries of an actor's ``attachment``."""
    out = []
    for item, where in as_list(value, at):
        doc = Doc.of(item, where)
        name = doc.text("name")
        if _first_known(doc, _PROPERTY_VALUE) and name is not None:
            out.append(PropertyValue(name, doc.text("value") or ""))
    return tuple(out)


def source(value: Any, at: At) -> Source | None:
    """AP §3.3 ``source``: ``{content, mediaType}``; Pleroma sends a bare string."""
    if value is None or isinstance(value, str):
        plain = text(value, at)
        return Source(plain) if plain else None
    doc = Doc.of(value, at)
    content = doc.data.get("content")
    if content is None:
        return None
    return Source(string(content, at.key("content")), doc.text("mediaType"))


def place(value: Any, at: At) -> Place | None:
    """``location``: the first ``Place`` with a name (an IRI alone is not used)."""
    for item, where in as_list(value, at):
        if isinstance(item, Mapping):
            name = Doc(item, where).text("name")
            if name:
                return Place(name)
    return None


def template_fields(value: Any, at: At) -> tuple[TemplateField, ...]:
    """``sc:templateFields``: ``{name, label, required}`` entries, in order."""
    out = []
    for item, where in as_list(value, at):
        doc = Doc.of(item, where)
        name = doc.text("name")
        if name is None:
            raise where.key("name").error("required")
        out.append(TemplateField(name, doc.text("label"), flag(*doc.get("required"))))
    return tuple(out)


def public_keys(value: Any, at: At) -> tuple[PublicKey, ...]:
    """Mastodon ``publicKey``: an object, a list of them, or a bare key IRI (skipped)."""
    return tuple(
        _key(item, where, "publicKeyPem", read_public_key_document, _MAX_PEM)
        for item, where in as_list(value, at)
        if not isinstance(item, str)
    )


def assertion_methods(value: Any, at: At) -> tuple[PublicKey, ...]:
    """FEP-521a ``assertionMethod``: the ``Multikey`` entries (IRIs and other types skipped)."""
    out = []
    for item, where in as_list(value, at):
        if isinstance(item, str):
            continue
        if _first_known(Doc.of(item, where), _MULTIKEY):
            out.append(_key(item, where, "publicKeyMultibase", read_multikey, _MAX_MULTIBASE))
    return tuple(out)


def _key(value: Any, at: At, field: str, read: Callable[[Any], PublicKey], limit: int) -> PublicKey:
    doc = Doc.of(value, at)
    doc.required_iri("id")
    doc.required_iri("owner" if field == "publicKeyPem" else "controller")
    material, material_at = doc.get(field)
    if len(string(material, material_at)) > limit:
        raise material_at.error(f"longer than {limit} characters")
    try:
        return read(value)
    except (KeyFormatError, ValueError) as exc:  # ValueError: non-ASCII PEM
        raise material_at.error(str(exc)) from None


def _first_known(doc: Doc, known: Mapping[str, _T]) -> _T | None:
    """The first ``type`` entry in ``known``; an entry without ``type`` has none."""
    value, at = doc.get("type")
    if value is None:
        return None
    return next((known[name] for name in types(value, at) if name in known), None)
