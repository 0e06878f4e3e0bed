"""Real documents from Mastodon, GoToSocial, Lemmy, Pleroma/Akkoma, Misskey and PeerTube.

Every file in tests/fixtures/servers/ (origins in tests/fixtures/README.md) must
parse, keep its id, type and actor, and survive our serialize → parse round trip.
A document whose type we do not model (Pleroma's ``EmojiReact``) must be refused
with a ParseError naming ``$.type``, which the node acknowledges and drops.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from protocol.errors import ParseError
from protocol.objects import Activity, AnyObject, Object
from protocol.parse import parse_actor, parse_object
from protocol.serialize import to_json
from protocol.vocab import ActivityType, ActorType, ObjectType

SERVERS = Path(__file__).parents[1] / "fixtures" / "servers"
FILES = sorted(SERVERS.glob("*.json"))
KNOWN = {t.value for e in (ActivityType, ActorType, ObjectType) for t in e}


def load(name: str) -> Any:
    return json.loads((SERVERS / name).read_text(encoding="utf-8"))


def type_names(data: dict[str, Any]) -> list[str]:
    kind = data["type"]
    return [kind] if isinstance(kind, str) else list(kind)


def iri_of(value: Any) -> Any:
    """The id of a JSON object or a parsed value; an IRI is its own id."""
    if isinstance(value, dict):
        return value["id"]
    return value if isinstance(value, str) else value.id


def parse_fixture(data: dict[str, Any]) -> AnyObject:
    is_actor = any(name in {t.value for t in ActorType} for name in type_names(data))
    return parse_actor(data) if is_actor else parse_object(data)


def test_there_are_fixtures_from_every_server_family() -> None:
    families = {path.name.split("_", 1)[0] for path in FILES}
    assert {"mastodon", "gotosocial", "lemmy", "pleroma", "misskey"} <= families


@pytest.mark.parametrize("path", FILES, ids=[path.stem for path in FILES])
def test_every_real_document_parses_keeping_id_type_and_actor(path: Path) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    known = [name for name in type_names(data) if name in KNOWN]
    if not known:
        with pytest.raises(ParseError) as caught:
            parse_object(data)
        assert caught.value.path == "$.type"
        return
    parsed = parse_fixture(data)
    assert parsed.id == data["id"]
    assert parsed.type == known[0]
    if isinstance(parsed, Activity):
        assert parsed.actor == iri_of(data["actor"])
        first = data["object"][0] if isinstance(data["object"], list) else data["object"]
        assert iri_of(parsed.object) == iri_of(first)
    assert parse_object(to_json(parsed)) == parsed


@pytest.mark.parametrize(
    "name",
    ["mastodon_actor.json", "gotosocial_actor.json", "misskey_actor.json", "pleroma_actor.json"],
)
def test_real_actors_give_their_inbox_and_their_key(name: str) -> None:
    data = load(name)
    actor = parse_actor(data)
    assert actor.inbox == data["inbox"]
    assert actor.preferred_username == data["preferredUsername"]
    assert actor.public_key is not None
    assert actor.public_key.id == data["publicKey"]["id"]
    assert actor.public_key.owner == actor.id
    shared = data.get("endpoints", {}).get("sharedInbox") or data.get("sharedInbox")
    assert actor.shared_inbox == shared


def test_a_mastodon_note_reads_its_addressing_mention_and_language_map() -> None:
    data = load("mastodon_create_note.json")
    create = parse_object(data)
    assert isinstance(create, Activity)
    note = create.object
    assert isinstance(note, Object)
    assert note.to == tuple(data["object"]["to"])
    assert note.cc == tuple(data["object"]["cc"])
    assert note.in_reply_to == data["object"]["inReplyTo"]
    assert [tag.type.value for tag in note.tags] == [
        tag["type"] for tag in data["object"]["tag"] if tag["type"] in {"Mention", "Hashtag"}
    ]


def test_a_mastodon_flag_names_the_account_and_the_posts() -> None:
    data = load("mastodon_flag.json")
    flag = parse_object(data)
    assert isinstance(flag, Activity)
    objects = data["object"] if isinstance(data["object"], list) else [data["object"]]
    assert flag.objects == tuple(objects)
    assert flag.to == ((data["to"],) if isinstance(data["to"], str) else tuple(data["to"]))


def test_a_lemmy_group_reshare_embeds_the_create_and_its_page() -> None:
    announce = parse_object(load("lemmy_announce_create_page.json"))
    assert isinstance(announce, Activity)
    inner = announce.object
    assert isinstance(inner, Activity)
    assert inner.type is ActivityType.CREATE
    assert isinstance(inner.object, Object)
    assert inner.object.type is ObjectType.PAGE


def test_peertube_attributed_to_is_a_list_of_person_and_channel() -> None:
    data = load("peertube_create_video.json")
    create = parse_object(data)
    assert isinstance(create, Activity)
    video = create.object
    assert isinstance(video, Object)
    assert video.attributed_to == tuple(iri_of(item) for item in data["object"]["attributedTo"])


def test_no_fixture_is_a_bare_collection_we_would_misread() -> None:
    # Guards the dispatch above: a collection file would need parse_collection assertions.
    collections = {t.value for t in ObjectType if "Collection" in t.value}
    for path in FILES:
        assert type_names(json.loads(path.read_text(encoding="utf-8")))[0] not in collections
