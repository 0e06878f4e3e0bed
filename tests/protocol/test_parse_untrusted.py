"""protocol.parse on untrusted input: only ParseError escapes, and what parses round-trips.

Three sources of input: arbitrary JSON values, objects with a plausible ``type``
and AS keys, and our own valid documents with one value replaced or removed
(which reaches deep into the parser's success paths).
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol.errors import ParseError
from protocol.parse import parse_activity, parse_actor, parse_collection, parse_object
from protocol.serialize import to_json
from tests.protocol.as2_strategies import any_objects

ALICE = "https://mastodon.example/users/alice"
NOTE = "https://mastodon.example/users/alice/statuses/1"

AS_KEYS = [
    "type", "id", "actor", "object", "to", "cc", "attributedTo", "tag", "publicKey", "inbox",
    "content", "contentMap", "url", "icon", "attachment", "first", "items", "orderedItems",
    "published", "endpoints", "sharedInbox", "assertionMethod", "href", "name", "totalItems",
    "location", "source", "version", "templateFields", "kind", "context", "publicKeyPem",
    "controller", "publicKeyMultibase", "owner", "mediaType", "coopModel",
]  # fmt: skip
TYPES = [
    "Create", "Announce", "Flag", "Note", "Article", "Person", "Group", "OrderedCollection",
    "CollectionPage", "Hashtag", "Mention", "Emoji", "Document", "Link", "Multikey",
    "PropertyValue", "Tombstone",
]  # fmt: skip
STRINGS = [ALICE, NOTE, "as:Public", "Public", "2024-05-01T07:30:00Z", "z6Mk", "", "en"]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True),
    st.text(max_size=8),
    st.sampled_from(TYPES + STRINGS),
)


def typed_objects(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    """Objects with a plausible ``type`` and a few AS keys, values often plausible too."""
    values = inner | st.sampled_from(STRINGS)
    return st.builds(
        lambda kind, rest: {**rest, "type": kind},
        st.sampled_from(TYPES) | inner,
        st.dictionaries(st.sampled_from(AS_KEYS), values, max_size=6),
    )


json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | typed_objects(inner)
        | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=40,
)


def _slots(node: Any) -> list[tuple[Any, Any]]:
    """Every (container, key-or-index) in a JSON tree."""
    pairs: list[tuple[Any, Any]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            pairs += [(node, key), *_slots(value)]
    elif isinstance(node, list):
        for i, value in enumerate(node):
            pairs += [(node, i), *_slots(value)]
    return pairs


@st.composite
def mutated_documents(draw: st.DrawFn) -> Any:
    """One of our valid documents with one value replaced by arbitrary JSON, or removed."""
    document = to_json(draw(any_objects))
    container, key = draw(st.sampled_from(_slots(document)))
    if isinstance(container, dict) and draw(st.booleans()):
        del container[key]
    else:
        container[key] = draw(json_values)
    return document


untrusted = json_values | typed_objects(json_values) | mutated_documents()


@settings(max_examples=200, deadline=None)
@given(untrusted)
@pytest.mark.parametrize("parse", [parse_object, parse_activity, parse_actor, parse_collection])
def test_arbitrary_input_raises_only_parse_error(parse: Any, data: Any) -> None:
    try:
        parse(data)
    except ParseError as error:
        assert error.path.startswith("$")


@settings(max_examples=200, deadline=None)
@given(untrusted)
def test_whatever_parses_is_a_fixed_point_of_serialize_then_parse(data: Any) -> None:
    try:
        parsed = parse_object(data)
    except ParseError:
        return
    assert parse_object(to_json(parsed)) == parsed
