"""protocol.serialize: our documents, byte-stable, and read back exactly by parse."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from hypothesis import given, settings

from protocol import keys
from protocol.objects import (
    Activity,
    Actor,
    AnyObject,
    Collection,
    Object,
    PropertyValue,
    TemplateField,
)
from protocol.parse import parse_object
from protocol.serialize import dumps, to_json
from protocol.vocab import ActivityType, ActorType, Kind, ObjectType, context
from tests.protocol.as2_strategies import SIGNING_KEYS, any_objects

COOP = "https://coop.example/coop"
NOTE = "https://coop.example/objects/1"

# --- properties --------------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(any_objects)
def test_parse_reads_back_exactly_what_to_json_writes(value: AnyObject) -> None:
    assert parse_object(to_json(value)) == value


@settings(max_examples=100, deadline=None)
@given(any_objects)
def test_the_bytes_we_send_parse_back_to_the_same_value(value: AnyObject) -> None:
    assert parse_object(json.loads(dumps(value))) == value


@settings(max_examples=100, deadline=None)
@given(any_objects)
def test_same_value_same_bytes_and_context_only_at_the_top(value: AnyObject) -> None:
    encoded = dumps(value)
    assert dumps(value) == encoded
    assert dumps(json.loads(encoded)) == encoded  # sorted keys: key order cannot leak in
    assert encoded.count(b'"@context"') == 1


@settings(max_examples=100, deadline=None)
@given(any_objects)
def test_no_property_is_null_or_empty(value: AnyObject) -> None:
    def check(node: object) -> None:
        if isinstance(node, dict):
            for key, item in node.items():
                assert item is not None, key
                assert item not in ([], {}), key
                check(item)
        elif isinstance(node, list):
            for item in node:
                check(item)

    check(to_json(value))


# --- examples ----------------------------------------------------------------------------


def test_a_note_has_only_the_properties_that_are_set() -> None:
    note = Object(ObjectType.NOTE, id=NOTE, content="<p>Hello</p>", attributed_to=(COOP,))
    assert to_json(note) == {
        "@context": context(),
        "id": NOTE,
        "type": "Note",
        "content": "<p>Hello</p>",
        "attributedTo": COOP,
    }


def test_dumps_is_compact_sorted_utf8() -> None:
    note = Object(ObjectType.NOTE, id=NOTE, name="Café")
    encoded = dumps(note)
    assert encoded.endswith(
        b',"id":"https://coop.example/objects/1","name":"Caf\xc3\xa9","type":"Note"}'
    )
    assert b": " not in encoded
    assert b", " not in encoded


def test_dumps_also_takes_a_built_document() -> None:
    assert dumps({"b": 1, "a": [True, None]}) == b'{"a":[true,null],"b":1}'


def test_times_are_utc_with_a_z() -> None:
    note = Object(ObjectType.NOTE, id=NOTE, published=datetime(2024, 5, 1, 11, 30, tzinfo=UTC))
    assert to_json(note)["published"] == "2024-05-01T11:30:00Z"


def test_embedded_objects_carry_no_context() -> None:
    create = Activity(
        ActivityType.CREATE, COOP, id=f"{NOTE}/create", objects=(Object(ObjectType.NOTE, id=NOTE),)
    )
    document = to_json(create)
    assert "@context" in document
    assert document["object"] == {"id": NOTE, "type": "Note"}


def test_a_flag_lists_its_objects_and_a_follow_names_one() -> None:
    flag = Activity(ActivityType.FLAG, COOP, objects=("https://a.example/u", NOTE), content="spam")
    follow = Activity(ActivityType.FOLLOW, COOP, objects=("https://a.example/u",))
    assert to_json(flag)["object"] == ["https://a.example/u", NOTE]
    assert to_json(follow)["object"] == "https://a.example/u"


def test_a_template_carries_our_terms() -> None:
    template = Object(
        ObjectType.ARTICLE,
        id=NOTE,
        kind=Kind.TEMPLATE,
        version=2,
        template_fields=(TemplateField("coopName", "Co-op name", required=True),),
        adapted_from="https://other.example/templates/9/versions/2",
        versions=f"{NOTE}/versions",
        license="https://spdx.org/licenses/CC-BY-SA-4.0",
        chatham_house=True,
    )
    document = to_json(template)
    assert document["kind"] == "Template"
    assert document["version"] == 2
    assert document["templateFields"] == [
        {"type": "TemplateField", "name": "coopName", "label": "Co-op name", "required": True}
    ]
    assert document["adaptedFrom"] == "https://other.example/templates/9/versions/2"
    assert document["license"] == "https://spdx.org/licenses/CC-BY-SA-4.0"
    assert document["chathamHouse"] is True


def test_false_flags_are_left_out_of_objects_but_always_sent_for_actors() -> None:
    note = Object(ObjectType.NOTE, id=NOTE)
    actor = Actor(COOP, ActorType.GROUP, inbox=f"{COOP}/inbox")
    assert "sensitive" not in to_json(note)
    assert "chathamHouse" not in to_json(note)
    document = to_json(actor)
    assert document["manuallyApprovesFollowers"] is False
    assert document["discoverable"] is False
    assert document["indexable"] is False


def test_an_actor_publishes_both_key_forms_and_a_shared_inbox() -> None:
    key = SIGNING_KEYS[0].public(COOP)
    actor = Actor(
        COOP,
        ActorType.GROUP,
        inbox=f"{COOP}/inbox",
        shared_inbox="https://coop.example/inbox",
        public_keys=(key,),
        assertion_methods=(key,),
        fields=(PropertyValue("Region", "Gwynedd"),),
    )
    document = to_json(actor)
    assert document["publicKey"] == keys.public_key_document(key)  # one key: an object
    assert document["assertionMethod"] == [keys.multikey_document(key)]
    assert document["endpoints"] == {"sharedInbox": "https://coop.example/inbox"}
    assert document["attachment"] == [
        {"type": "PropertyValue", "name": "Region", "value": "Gwynedd"}
    ]


def test_ordered_collections_use_ordered_items_and_keep_zero_totals() -> None:
    ordered = Collection(ObjectType.ORDERED_COLLECTION, id=COOP, total_items=0, items=(NOTE,))
    plain = Collection(ObjectType.COLLECTION, id=COOP, items=(NOTE,))
    assert to_json(ordered)["orderedItems"] == [NOTE]
    assert to_json(ordered)["totalItems"] == 0
    assert to_json(plain)["items"] == [NOTE]
    assert "orderedItems" not in to_json(plain)
