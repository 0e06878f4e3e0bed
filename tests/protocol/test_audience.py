"""protocol.audience: our four audiences as to/cc, and reading what others address."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from protocol.audience import Audience, addressed, addressing, is_public, strip_private
from protocol.objects import Activity, Object
from protocol.vocab import PUBLIC, ActivityType, ObjectType

COOP = "https://coop.example/coop"
FOLLOWERS = f"{COOP}/followers"
FEDERATION = "https://federation.example/members"
ALICE = "https://m.example/users/alice"


def test_public_is_to_public_and_cc_followers() -> None:
    assert addressing(Audience.PUBLIC, FOLLOWERS, FEDERATION) == ((PUBLIC,), (FOLLOWERS,))


def test_federation_is_to_the_federation_and_cc_followers_without_public() -> None:
    to, cc = addressing(Audience.FEDERATION, FOLLOWERS, FEDERATION)
    assert (to, cc) == ((FEDERATION,), (FOLLOWERS,))
    assert not is_public(to + cc)


def test_followers_is_to_followers_only() -> None:
    assert addressing(Audience.FOLLOWERS, FOLLOWERS) == ((FOLLOWERS,), ())


def test_members_content_is_never_addressed() -> None:
    with pytest.raises(ValueError, match="never leaves"):
        addressing(Audience.MEMBERS, FOLLOWERS, FEDERATION)


def test_federation_needs_a_federation() -> None:
    with pytest.raises(ValueError, match="federation"):
        addressing(Audience.FEDERATION, FOLLOWERS, None)


@pytest.mark.parametrize("spelling", [PUBLIC, "as:Public", "Public"])
@pytest.mark.parametrize("field", ["to", "cc"])
def test_is_public_accepts_every_spelling_in_to_or_cc(spelling: str, field: str) -> None:
    to, cc = ((spelling,), ()) if field == "to" else ((), (spelling,))
    note = Object(ObjectType.NOTE, to=to, cc=cc)
    assert is_public(note)
    assert is_public(Activity(ActivityType.CREATE, COOP, objects=(note,), to=to, cc=cc))


def test_followers_only_and_direct_posts_are_not_public() -> None:
    assert not is_public(Object(ObjectType.NOTE, to=(FOLLOWERS,), cc=(ALICE,)))
    assert not is_public(["https://www.w3.org/ns/activitystreams#public"])  # case matters


def test_addressed_lists_every_recipient_once_without_public() -> None:
    activity = Activity(
        ActivityType.CREATE,
        COOP,
        objects=("https://coop.example/n/1",),
        to=(PUBLIC, ALICE),
        cc=(FOLLOWERS, ALICE),
        bcc=("https://b.example/u",),
        audience=(COOP,),
    )
    assert addressed(activity) == (ALICE, FOLLOWERS, "https://b.example/u", COOP)


def test_strip_private_removes_bto_and_bcc_everywhere_and_leaves_the_input_alone() -> None:
    # Given an activity whose embedded object is also blind-addressed
    document: dict[str, Any] = {
        "type": "Create",
        "to": [ALICE],
        "bto": ["https://x.example/secret"],
        "object": {"type": "Note", "bcc": ["https://y.example/secret"], "tag": [{"bto": 1}]},
    }
    before = copy.deepcopy(document)
    # When it is stripped
    stripped = strip_private(document)
    # Then no bto/bcc remains at any level, the rest is kept, and the input is unchanged
    assert stripped == {"type": "Create", "to": [ALICE], "object": {"type": "Note", "tag": [{}]}}
    assert document == before
    stripped["object"]["type"] = "Article"
    assert document["object"]["type"] == "Note"
