"""protocol.contexts: vendored JSON-LD contexts, looked up offline, and our own context."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from protocol import contexts, vocab
from protocol.contexts import (
    CONTEXT_URLS,
    SHARING_CARE_CONTEXT,
    document_loader,
    load_context,
)
from protocol.errors import ParseError
from tests.protocol.ldcheck import dropped_keys, expand, node_types, property_iris, undefined_terms

# The vendored third-party files must stay byte-for-byte what protocol/contexts/README.md
# says they are. Changing one is a deliberate act: update the README and these digests.
VENDORED_SHA256 = {
    "activitystreams.jsonld": "171cea956a5e10f3b3dbe08e3f72a0fc232a1f9c3ce5b7212ba46baa2c042684",
    "security-v1.jsonld": "abaf97e107d1925503c433dcaf3ffd2831697cacc1ed2a293e1bc8030d5bcb47",
    "multikey-v1.jsonld": "ba2c182de2d92f7e47184bcca8fcf0beaee6d3986c527bf664c195bbc7c58597",
}


def _vendored_bytes(name: str) -> bytes:
    return (Path(contexts.__file__).with_name("contexts") / name).read_bytes()


@pytest.mark.parametrize("name", sorted(VENDORED_SHA256))
def test_vendored_files_are_unchanged(name: str) -> None:
    assert hashlib.sha256(_vendored_bytes(name)).hexdigest() == VENDORED_SHA256[name]


@pytest.mark.parametrize("url", sorted(CONTEXT_URLS))
def test_every_known_url_loads_a_context_document(url: str) -> None:
    document = load_context(url)
    assert isinstance(document["@context"], dict)
    assert document["@context"]  # not empty


def test_the_table_covers_every_remote_context_we_emit() -> None:
    # Given the @context we put on every document
    remote = [entry for entry in vocab.CONTEXT if isinstance(entry, str)]
    # Then each remote entry, and our own namespace document, has a vendored copy
    assert set(remote) | {SHARING_CARE_CONTEXT} == CONTEXT_URLS


@pytest.mark.parametrize(
    "alias",
    [
        "http://www.w3.org/ns/activitystreams",
        "https://www.w3.org/ns/activitystreams#",
        "https://www.w3.org/ns/activitystreams.jsonld",
        " https://www.w3.org/ns/activitystreams/ ",
    ],
)
def test_spellings_of_the_as2_context_resolve_to_it(alias: str) -> None:
    assert load_context(alias) == load_context(vocab.ACTIVITYSTREAMS)


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/context.jsonld",
        "https://join-lemmy.org/context.json",
        "https://www.w3.org/ns/activitystreams-extended",
        "",
    ],
)
def test_an_unknown_url_is_a_parse_error_not_a_fetch(url: str) -> None:
    with pytest.raises(ParseError) as caught:
        load_context(url)
    assert caught.value.path == "$['@context']"
    assert "never fetched" in caught.value.reason


def test_each_call_returns_a_fresh_document() -> None:
    # Given a caller that mutates what it got
    first = load_context(vocab.SECURITY_V1)
    first["@context"]["publicKeyPem"] = "tampered"
    # Then the next caller still sees the vendored definition
    assert load_context(vocab.SECURITY_V1)["@context"]["publicKeyPem"] == "sec:publicKeyPem"


def test_document_loader_has_the_shape_pyld_expects() -> None:
    loaded = document_loader(vocab.MULTIKEY_V1, {"headers": {}})
    assert loaded == {
        "contentType": "application/ld+json",
        "contextUrl": None,
        "documentUrl": vocab.MULTIKEY_V1,
        "document": load_context(vocab.MULTIKEY_V1),
    }


def test_document_loader_refuses_unknown_urls() -> None:
    with pytest.raises(ParseError):
        document_loader("https://attacker.example/ctx")


def test_vendored_as2_context_defines_what_we_rely_on() -> None:
    terms = load_context(vocab.ACTIVITYSTREAMS)["@context"]
    assert terms["as"] == "https://www.w3.org/ns/activitystreams#"
    assert terms["orderedItems"] == {"@id": "as:items", "@type": "@id", "@container": "@list"}
    assert terms["contentMap"] == {"@id": "as:content", "@container": "@language"}
    assert terms["sharedInbox"] == {"@id": "as:sharedInbox", "@type": "@id"}


def test_vendored_security_context_defines_the_mastodon_key_terms() -> None:
    terms = load_context(vocab.SECURITY_V1)["@context"]
    assert terms["publicKey"] == {"@id": "sec:publicKey", "@type": "@id"}
    assert terms["owner"] == {"@id": "sec:owner", "@type": "@id"}
    assert terms["publicKeyPem"] == "sec:publicKeyPem"


# --- (a) our context document agrees with the @context we inline ---------------------------

OUR_TERMS: dict[str, Any] = load_context(SHARING_CARE_CONTEXT)["@context"]
INLINE: dict[str, Any] = {
    term: definition if isinstance(definition, str) else dict(definition)
    for term, definition in vocab.INLINE_TERMS.items()
}


def test_the_inline_terms_are_the_third_element_of_context() -> None:
    assert vocab.context()[3] == INLINE


@pytest.mark.parametrize("term", sorted(INLINE))
def test_every_inlined_term_has_the_same_definition_in_our_context(term: str) -> None:
    assert OUR_TERMS[term] == INLINE[term]


def test_our_context_defines_nothing_beyond_the_inline_terms_but_the_as_prefix() -> None:
    # Served alone (at <base>/ns), "as:" must be defined by the document itself.
    assert set(OUR_TERMS) - set(INLINE) == {"as"}
    assert OUR_TERMS["as"] == "https://www.w3.org/ns/activitystreams#"


def test_every_sc_term_lives_in_the_sharing_care_namespace() -> None:
    assert OUR_TERMS["sc"] == vocab.SC_NS == SHARING_CARE_CONTEXT + "#"
    for term, definition in OUR_TERMS.items():
        iri = definition if isinstance(definition, str) else definition["@id"]
        if iri.startswith("sc:"):
            assert iri[3:], term


# --- (b) documents using our CONTEXT expand offline, every term mapped --------------------

SC = vocab.SC_NS
COOP = "https://care.example/coops/riverside"

SAMPLES: dict[str, dict[str, Any]] = {
    "coop actor": {
        "@context": vocab.context(),
        "id": COOP,
        "type": "Group",
        "preferredUsername": "riverside",
        "inbox": f"{COOP}/inbox",
        "featured": f"{COOP}/featured",
        "manuallyApprovesFollowers": False,
        "discoverable": True,
        "indexable": True,
        "alsoKnownAs": ["https://old.example/coops/riverside"],
        "movedTo": "https://new.example/coops/riverside",
        "region": "Bristol",
        "services": ["home care", "respite"],
        "coopModel": "worker",
        "advisesOn": ["governance"],
        "federation": "https://care.example/federations/south-west",
        "attachment": [{"type": "PropertyValue", "name": "Region", "value": "Bristol"}],
        "publicKey": {"id": f"{COOP}#main-key", "owner": COOP, "publicKeyPem": "PEM"},
        "assertionMethod": [
            {
                "id": f"{COOP}#ed25519-key",
                "type": "Multikey",
                "controller": COOP,
                "publicKeyMultibase": "z6Mk",
            }
        ],
    },
    "template": {
        "@context": vocab.context(),
        "id": f"{COOP}/templates/7",
        "type": "Article",
        "kind": "Template",
        "name": "Rota policy",
        "sensitive": False,
        "version": 2,
        "templateFields": [
            {"type": "TemplateField", "name": "coopName", "label": "Co-op name", "required": True}
        ],
        "adaptedFrom": "https://other.example/templates/3/versions/1",
        "versions": f"{COOP}/templates/7/versions",
        "license": "https://spdx.org/licenses/CC-BY-SA-4.0",
        "chathamHouse": True,
        "tag": [{"type": "Hashtag", "name": "#rota", "href": "https://care.example/tags/rota"}],
    },
    "toolkit": {
        "@context": vocab.context(),
        "id": f"{COOP}/toolkits/1",
        "type": "Article",
        "kind": "Toolkit",
        "toolkitItems": [f"{COOP}/resources/1", "https://other.example/resources/9"],
    },
    "question": {
        "@context": vocab.context(),
        "id": f"{COOP}/questions/5",
        "type": "Note",
        "kind": "Question",
        "context": f"{COOP}/questions/5/thread",
        "acceptedAnswer": "https://other.example/answers/2",
    },
}


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_samples_expand_offline_with_every_term_defined(name: str) -> None:
    expanded = expand(SAMPLES[name])
    assert expanded  # expansion produced a node
    assert undefined_terms(expanded) == set()


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_no_key_is_dropped_by_an_expand_compact_round_trip(name: str) -> None:
    assert dropped_keys(SAMPLES[name]) == set()


def test_every_sc_term_expands_into_the_sharing_care_namespace() -> None:
    # Given every sample expanded
    iris: set[str] = set()
    for sample in SAMPLES.values():
        expanded = expand(sample)
        iris |= property_iris(expanded) | node_types(expanded)
    # Then every sc term we define was used and landed in https://w3id.org/sharing-care/ns#
    expected = {
        SC + (definition if isinstance(definition, str) else definition["@id"])[3:]
        for definition in OUR_TERMS.values()
        if (definition if isinstance(definition, str) else definition["@id"]).startswith("sc:")
    }
    assert expected <= iris
    assert f"{SC}items" in iris  # toolkitItems is sc:items, not as:items


def test_toolkit_items_keep_their_order() -> None:
    expanded = expand(SAMPLES["toolkit"])
    items = expanded[0][f"{SC}items"][0]["@list"]
    assert [item["@id"] for item in items] == SAMPLES["toolkit"]["toolkitItems"]


def test_a_misspelt_term_is_reported_not_silently_kept() -> None:
    # Given a document with a key no context defines
    document = {**SAMPLES["question"], "acceptedAnswr": "https://other.example/answers/2"}
    # Then the checker sees AS2's @vocab fallback
    assert undefined_terms(expand(document)) == {"_:acceptedAnswr"}
