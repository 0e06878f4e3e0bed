"""protocol.vocab: the outgoing @context, the public address, media types, our terms."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from protocol import vocab
from protocol.vocab import (
    CONTEXT,
    INLINE_TERMS,
    PUBLIC,
    PUBLIC_ADDRESSES,
    SC_NS,
    ActivityType,
    ActorType,
    Kind,
    MediaType,
    ObjectType,
    context,
)

CONTEXTS_DIR = Path(vocab.__file__).with_name("contexts")

# Terms our serializer emits that the AS2, security/v1 and multikey/v1 contexts define.
REMOTE_TERMS = {
    "id", "type", "actor", "object", "target", "to", "cc", "bto", "bcc", "audience",
    "published", "updated", "content", "contentMap", "summary", "name", "mediaType",
    "source", "url", "attributedTo", "inReplyTo", "context", "startTime", "endTime",
    "location", "tag", "attachment", "href", "formerType", "deleted", "totalItems",
    "first", "last", "next", "prev", "partOf", "startIndex", "orderedItems", "items",
    "inbox", "outbox", "followers", "following", "endpoints", "sharedInbox",
    "preferredUsername", "icon", "image", "publicKey", "publicKeyPem", "owner",
    "controller", "publicKeyMultibase",
}  # fmt: skip


def test_the_public_collection_has_three_spellings() -> None:
    assert PUBLIC == "https://www.w3.org/ns/activitystreams#Public"
    assert {PUBLIC, "as:Public", "Public"} == PUBLIC_ADDRESSES


def test_media_types_are_the_two_activitypub_names() -> None:
    assert MediaType.ACTIVITY_JSON.value == "application/activity+json"
    assert (
        MediaType.LD_JSON.value
        == 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
    )


def test_context_is_the_three_remote_contexts_then_our_inline_terms() -> None:
    assert CONTEXT[:3] == (
        "https://www.w3.org/ns/activitystreams",
        "https://w3id.org/security/v1",
        "https://w3id.org/security/multikey/v1",
    )
    assert CONTEXT[3] is INLINE_TERMS
    assert INLINE_TERMS["sc"] == SC_NS == "https://w3id.org/sharing-care/ns#"


def test_context_returns_plain_json_equal_to_the_constant_and_fresh_each_time() -> None:
    # When the context is taken twice and one copy is changed
    first, second = context(), context()
    assert json.loads(json.dumps(first)) == first
    first[3]["kind"] = "changed"  # type: ignore[index]
    # Then the constant and the other copy are untouched
    assert INLINE_TERMS["kind"] == second[3]["kind"] == "sc:kind"  # type: ignore[index]
    assert second[:3] == list(CONTEXT[:3])


def test_the_constant_cannot_be_changed() -> None:
    with pytest.raises(TypeError):
        INLINE_TERMS["kind"] = "x"  # type: ignore[index]


@pytest.mark.parametrize(
    ("term", "iri"),
    [
        ("kind", "sc:kind"),
        ("region", "sc:region"),
        ("services", "sc:services"),
        ("coopModel", "sc:coopModel"),
        ("advisesOn", "sc:advisesOn"),
        ("federation", "sc:federation"),
        ("version", "sc:version"),
        ("templateFields", "sc:templateFields"),
        ("TemplateField", "sc:TemplateField"),
        ("label", "sc:label"),
        ("required", "sc:required"),
        ("adaptedFrom", "sc:adaptedFrom"),
        ("versions", "sc:versions"),
        ("toolkitItems", "sc:items"),
        ("acceptedAnswer", "sc:acceptedAnswer"),
        ("chathamHouse", "sc:chathamHouse"),
        ("license", "sc:license"),
    ],
)
def test_every_sharing_care_term_is_in_our_namespace(term: str, iri: str) -> None:
    definition = INLINE_TERMS[term]
    assert (definition if isinstance(definition, str) else definition["@id"]) == iri


@pytest.mark.parametrize(
    "term", ["federation", "adaptedFrom", "versions", "toolkitItems", "acceptedAnswer", "license"]
)
def test_terms_holding_iris_are_typed_as_ids(term: str) -> None:
    # So a JSON-LD processor reads the value as a node reference, not a string.
    definition = INLINE_TERMS[term]
    assert not isinstance(definition, str)
    assert definition["@type"] == "@id"


def test_ordered_sc_lists_are_json_ld_lists() -> None:
    for term in ("templateFields", "toolkitItems"):
        definition = INLINE_TERMS[term]
        assert not isinstance(definition, str)
        assert definition["@container"] == "@list"


def test_no_inline_term_redefines_an_as2_term_we_emit() -> None:
    # `items` in particular: redefining it would break every Collection we send.
    redefined = REMOTE_TERMS & set(INLINE_TERMS)
    assert redefined == set()


def _remote_definitions() -> set[str]:
    terms: set[str] = set()
    for name in ("activitystreams.jsonld", "security-v1.jsonld", "multikey-v1.jsonld"):
        path = CONTEXTS_DIR / name
        if not path.exists():
            pytest.skip(f"{name} is not vendored yet")
        terms |= set(_terms(json.loads(path.read_text(encoding="utf-8"))["@context"]))
    return terms


def _terms(ctx: dict[str, Any]) -> list[str]:
    """Top-level terms, plus those of type-scoped contexts (multikey/v1 scopes its terms)."""
    found = list(ctx)
    for definition in ctx.values():
        if isinstance(definition, dict) and isinstance(definition.get("@context"), dict):
            found += _terms(definition["@context"])
    return found


def test_every_remote_term_we_emit_is_defined_by_a_vendored_context() -> None:
    missing = REMOTE_TERMS - _remote_definitions()
    assert missing == set()


def test_enums_carry_the_exact_wire_names() -> None:
    assert {t.value for t in ActorType} == {
        "Application",
        "Group",
        "Organization",
        "Person",
        "Service",
    }
    assert ActivityType.UNDO.value == "Undo"
    assert ObjectType.ORDERED_COLLECTION_PAGE.value == "OrderedCollectionPage"
    assert [k.value for k in Kind] == [
        "Resource",
        "Template",
        "Toolkit",
        "Question",
        "Answer",
        "Event",
    ]


def test_type_names_do_not_overlap_between_enums() -> None:
    # parse picks a class from the type name alone, so one name must mean one thing.
    activities = {t.value for t in ActivityType}
    actors = {t.value for t in ActorType}
    objects = {t.value for t in ObjectType}
    assert activities & actors == activities & objects == actors & objects == set()
