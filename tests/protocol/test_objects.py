"""protocol.objects: immutable values with a few derived properties."""

from __future__ import annotations

import dataclasses

import pytest

from protocol import keys
from protocol.objects import Activity, Actor, Collection, Object
from protocol.vocab import ActivityType, ActorType, ObjectType

COOP = "https://coop.example/coop"


def test_values_are_frozen_and_slotted() -> None:
    note = Object(ObjectType.NOTE, id=f"{COOP}/n/1")
    with pytest.raises(dataclasses.FrozenInstanceError):
        note.content = "changed"  # type: ignore[misc]
    assert not hasattr(note, "__dict__")


def test_values_compare_by_content_and_hash_when_they_hold_no_key() -> None:
    a = Object(ObjectType.NOTE, id=f"{COOP}/n/1", to=(COOP,))
    b = Object(ObjectType.NOTE, id=f"{COOP}/n/1", to=(COOP,))
    assert a == b
    assert hash(a) == hash(b)
    assert a != dataclasses.replace(b, to=())


def test_object_is_the_first_of_objects() -> None:
    flag = Activity(ActivityType.FLAG, COOP, objects=("https://a.example/u", f"{COOP}/n/1"))
    arrive = Activity(ActivityType.ARRIVE, COOP)
    assert flag.object == "https://a.example/u"
    assert arrive.object is None


def test_an_actor_delivers_to_its_shared_inbox_when_it_has_one() -> None:
    alone = Actor(COOP, ActorType.GROUP, inbox=f"{COOP}/inbox")
    shared = dataclasses.replace(alone, shared_inbox="https://coop.example/inbox")
    assert alone.delivery_inbox == f"{COOP}/inbox"
    assert shared.delivery_inbox == "https://coop.example/inbox"


def test_an_actor_signs_with_its_first_public_key() -> None:
    first = keys.generate_ed25519(f"{COOP}#a").public(COOP)
    second = keys.generate_ed25519(f"{COOP}#b").public(COOP)
    actor = Actor(COOP, ActorType.GROUP, inbox=f"{COOP}/inbox", public_keys=(first, second))
    assert actor.public_key == first
    assert Actor(COOP, ActorType.GROUP, inbox=f"{COOP}/inbox").public_key is None


@pytest.mark.parametrize(
    ("kind", "ordered"),
    [
        (ObjectType.ORDERED_COLLECTION, True),
        (ObjectType.ORDERED_COLLECTION_PAGE, True),
        (ObjectType.COLLECTION, False),
        (ObjectType.COLLECTION_PAGE, False),
    ],
)
def test_collections_know_whether_they_are_ordered(kind: ObjectType, ordered: bool) -> None:
    assert Collection(kind).ordered is ordered
