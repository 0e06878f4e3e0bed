"""protocol.parse: untrusted JSON in, typed values out, ParseError (with its path) otherwise."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from protocol import keys
from protocol.errors import ParseError
from protocol.objects import Activity, Actor, Collection, Image, Link, Object
from protocol.parse import (
    MAX_DEPTH,
    MAX_ITEMS,
    parse_activity,
    parse_actor,
    parse_collection,
    parse_object,
)
from protocol.vocab import ActorType, Kind, LinkType, ObjectType

AS = "https://www.w3.org/ns/activitystreams"
ALICE = "https://mastodon.example/users/alice"
NOTE = "https://mastodon.example/users/alice/statuses/1"
RSA = keys.generate_rsa(f"{ALICE}#main-key")
ED = keys.generate_ed25519(f"{ALICE}#ed25519-key")


def note(**extra: Any) -> dict[str, Any]:
    return {"id": NOTE, "type": "Note", "attributedTo": ALICE, "content": "<p>hi</p>"} | extra


def create(obj: Any, **extra: Any) -> dict[str, Any]:
    return {"id": f"{NOTE}/activity", "type": "Create", "actor": ALICE, "object": obj} | extra


def actor(**extra: Any) -> dict[str, Any]:
    return {
        "@context": [AS, "https://w3id.org/security/v1"],
        "id": ALICE,
        "type": "Person",
        "preferredUsername": "alice",
        "inbox": f"{ALICE}/inbox",
    } | extra


def error_of(parse: Any, data: Any) -> ParseError:
    with pytest.raises(ParseError) as caught:
        parse(data)
    return caught.value


def as_object(value: Any) -> Object:
    assert isinstance(value, Object)
    return value


# --- tolerance: shapes AS2 allows and servers send -------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (ALICE, (ALICE,)),
        ({"id": ALICE, "type": "Person"}, (ALICE,)),
        ([ALICE, {"id": "https://b.example/g", "type": "Group"}], (ALICE, "https://b.example/g")),
        (None, ()),
    ],
)
def test_attributed_to_may_be_a_string_an_object_or_a_list(value: Any, expected: Any) -> None:
    assert as_object(parse_object(note(attributedTo=value))).attributed_to == expected


def test_to_may_be_a_string_or_a_list() -> None:
    assert as_object(parse_object(note(to=AS + "#Public"))).to == (AS + "#Public",)
    assert as_object(parse_object(note(to=[ALICE, "as:Public"]))).to == (ALICE, "as:Public")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Note", ObjectType.NOTE),
        (["Note"], ObjectType.NOTE),
        (["ChatMessage", "Note", "Article"], ObjectType.NOTE),
        (["Emoji", "Person", "Service"], ActorType.PERSON),
    ],
)
def test_type_may_be_a_list_and_the_first_known_type_wins(value: Any, expected: Any) -> None:
    data = actor(type=value) if expected in ActorType else note(type=value)
    assert parse_object(data).type == expected


def test_an_object_may_be_embedded_or_referenced() -> None:
    embedded = parse_activity(create(note()))
    referenced = parse_activity(create(NOTE))
    assert isinstance(embedded.object, Object)
    assert embedded.object.id == NOTE
    assert referenced.object == NOTE


def test_an_embedded_object_of_unknown_type_is_kept_as_a_reference() -> None:
    like = {"type": "Like", "actor": ALICE, "object": {"id": NOTE, "type": "ChatMessage"}}
    assert parse_activity(like).object == NOTE


def test_an_embedded_object_with_only_an_id_is_a_reference() -> None:
    assert parse_activity(create({"id": NOTE})).object == NOTE


def test_content_map_without_content_gives_its_first_entry_and_keeps_the_map() -> None:
    parsed = as_object(
        parse_object(note(content=None, contentMap={"fr": "<p>salut</p>", "en": "<p>hi</p>"}))
    )
    assert parsed.content == "<p>salut</p>"  # first in the document
    assert parsed.content_map == (("en", "<p>hi</p>"), ("fr", "<p>salut</p>"))  # sorted


def test_content_wins_over_content_map() -> None:
    parsed = as_object(parse_object(note(content="<p>x</p>", contentMap={"en": "<p>y</p>"})))
    assert parsed.content == "<p>x</p>"


@pytest.mark.parametrize(
    "icon",
    [
        {"type": "Image", "url": "https://m.example/a.png", "mediaType": "image/png"},
        [{"type": "Image", "url": "https://m.example/a.png", "mediaType": "image/png"}],
        [
            {"type": "Image", "url": None},
            {"type": "Image", "url": "https://m.example/a.png", "mediaType": "image/png"},
        ],
    ],
)
def test_icon_may_be_an_object_or_a_list(icon: Any) -> None:
    assert parse_actor(actor(icon=icon)).icon == Image("https://m.example/a.png", "image/png")


def test_icon_may_be_a_bare_url() -> None:
    assert parse_actor(actor(icon="https://m.example/a.png")).icon == Image(
        "https://m.example/a.png"
    )


def test_missing_optional_fields_are_empty() -> None:
    parsed = parse_actor(actor())
    assert parsed.outbox is None
    assert parsed.public_keys == ()
    assert parsed.also_known_as == ()
    assert parsed.manually_approves_followers is False


def test_unknown_properties_are_ignored() -> None:
    plain = parse_object(note())
    noisy = parse_object(note(_misskey_content="x", quoteUrl=5, votersCount=[1]))
    assert noisy == plain


@pytest.mark.parametrize("ctx", [None, AS, 42, {"@vocab": "x"}, [AS, {"toot": 1}], "nonsense"])
def test_context_may_be_absent_or_odd(ctx: Any) -> None:
    data = note() if ctx is None else note(**{"@context": ctx})
    assert parse_object(data) == parse_object(note())


def test_shared_inbox_is_read_from_endpoints_or_the_top_level() -> None:
    shared = "https://mastodon.example/inbox"
    assert parse_actor(actor(endpoints={"sharedInbox": shared})).shared_inbox == shared
    assert parse_actor(actor(sharedInbox=shared)).shared_inbox == shared
    assert parse_actor(actor()).delivery_inbox == f"{ALICE}/inbox"


def test_public_key_may_be_an_object_a_list_or_a_bare_iri() -> None:
    key = RSA.public(ALICE)
    document = keys.public_key_document(key)
    assert parse_actor(actor(publicKey=document)).public_keys == (key,)
    assert parse_actor(actor(publicKey=[document, f"{ALICE}#other"])).public_keys == (key,)
    assert parse_actor(actor(publicKey=f"{ALICE}#main-key")).public_keys == ()


def test_multikeys_are_read_from_assertion_method() -> None:
    # FEP-521a: Multikey entries count; key IRIs and other key types are passed over.
    key = ED.public(ALICE)
    methods = [
        f"{ALICE}#elsewhere",
        {"id": f"{ALICE}#x", "type": "Ed25519VerificationKey2020", "controller": ALICE},
        keys.multikey_document(key),
    ]
    assert parse_actor(actor(assertionMethod=methods)).assertion_methods == (key,)


def test_emoji_tags_are_skipped_and_hashtags_and_mentions_kept() -> None:
    tags = [
        {"type": "Emoji", "name": ":blob:", "icon": {"url": "https://m.example/e.png"}},
        {"type": "Hashtag", "href": "https://m.example/tags/care", "name": "#care"},
        {"type": "Mention", "href": ALICE, "name": "@alice"},
        "https://m.example/tags/bare",
    ]
    assert as_object(parse_object(note(tag=tags))).tags == (
        Link(LinkType.HASHTAG, "https://m.example/tags/care", "#care"),
        Link(LinkType.MENTION, ALICE, "@alice"),
    )


def test_url_prefers_the_html_link_of_a_list() -> None:
    # PeerTube: url is a list of Links with media types.
    url = [
        {"type": "Link", "mediaType": "application/x-mpegURL", "href": "https://p.example/v.m3u8"},
        {"type": "Link", "mediaType": "text/html", "href": "https://p.example/w/1"},
        "magnet:?xt=urn:btih:0",
    ]
    assert as_object(parse_object(note(url=url))).url == "https://p.example/w/1"


def test_a_pleroma_tag_uri_context_is_kept() -> None:
    context = "tag:pleroma.example,2024-01-01:objectId=1:objectType=Conversation"
    assert as_object(parse_object(note(context=context))).context == context


def test_times_become_aware_utc_datetimes() -> None:
    expected = datetime(2024, 5, 1, 7, 30, tzinfo=UTC)
    for text in (
        "2024-05-01T07:30:00Z",
        "2024-05-01T07:30:00.000Z",
        "2024-05-01T09:30:00+02:00",
        "2024-05-01T07:30:00",
    ):
        assert as_object(parse_object(note(published=text))).published == expected


def test_sharing_care_terms_are_read() -> None:
    data = note(
        type="Article",
        kind="Template",
        version=3,
        templateFields=[
            {"type": "TemplateField", "name": "coopName", "label": "Co-op name", "required": True}
        ],
        adaptedFrom="https://other.example/t/1/versions/2",
        toolkitItems=[NOTE, "https://other.example/r/2"],
        chathamHouse=True,
        license="https://spdx.org/licenses/CC-BY-SA-4.0",
    )
    parsed = as_object(parse_object(data))
    assert parsed.kind is Kind.TEMPLATE
    assert parsed.version == 3
    assert parsed.template_fields[0].name == "coopName"
    assert parsed.template_fields[0].required is True
    assert parsed.items == (NOTE, "https://other.example/r/2")
    assert parsed.chatham_house is True


def test_an_unknown_kind_is_a_plain_object() -> None:
    assert as_object(parse_object(note(kind="Recipe"))).kind is None


def test_a_flag_may_name_several_objects() -> None:
    flag = {"type": "Flag", "actor": ALICE, "object": [ALICE, NOTE], "content": "spam"}
    parsed = parse_activity(flag)
    assert parsed.objects == (ALICE, NOTE)
    assert parsed.content == "spam"


def test_an_embedded_first_page_is_parsed() -> None:
    replies = {
        "id": f"{NOTE}/replies",
        "type": "Collection",
        "first": {
            "type": "CollectionPage",
            "next": f"{NOTE}/replies?page=2",
            "partOf": f"{NOTE}/replies",
            "items": [],
        },
    }
    parsed = parse_collection(replies)
    assert isinstance(parsed.first, Collection)
    assert parsed.first.next == f"{NOTE}/replies?page=2"


def test_ordered_collections_accept_items_under_either_key() -> None:
    ordered = parse_collection({"type": "OrderedCollection", "items": [NOTE]})
    assert ordered.items == (NOTE,)


def test_parse_object_dispatches_on_type() -> None:
    assert isinstance(parse_object(create(NOTE)), Activity)
    assert isinstance(parse_object(actor()), Actor)
    assert isinstance(parse_object({"type": "OrderedCollection"}), Collection)
    assert isinstance(parse_object(note()), Object)


# --- errors: exact paths -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("parse", "data", "path"),
    [
        (parse_activity, create(note(attributedTo=[ALICE, 5])), "$.object.attributedTo[1]"),
        (parse_activity, create(note(id=7)), "$.object.id"),
        (parse_activity, {"type": "Create", "object": NOTE}, "$.actor"),
        (parse_activity, {"type": "Create", "actor": ALICE}, "$.object"),
        (parse_activity, {"type": "Flag", "actor": ALICE, "object": [ALICE, 3]}, "$.object[1]"),
        (parse_activity, {"type": "Bite", "actor": ALICE, "object": NOTE}, "$.type"),
        (parse_activity, note(), "$.type"),
        (parse_activity, [], "$"),
        (parse_actor, actor(inbox="ftp://m.example/inbox"), "$.inbox"),
        (parse_actor, actor(inbox=None), "$.inbox"),
        (parse_actor, actor(id="/users/alice"), "$.id"),
        (parse_actor, actor(name=5), "$.name"),
        (parse_actor, actor(manuallyApprovesFollowers="true"), "$.manuallyApprovesFollowers"),
        (parse_actor, actor(endpoints={"sharedInbox": 1}), "$.endpoints.sharedInbox"),
        (parse_object, note(contentMap={"en": 5}), "$.contentMap.en"),
        (parse_object, note(tag=[{"type": "Hashtag", "href": 5}]), "$.tag[0].href"),
        (parse_object, note(version=True), "$.version"),
        (parse_object, note(version=0), "$.version"),
        (parse_object, note(version=2.0), "$.version"),
        (parse_object, note(published="yesterday"), "$.published"),
        (parse_object, note(type=[1]), "$.type[0]"),
        (parse_object, note(type=None), "$.type"),
        (parse_object, note(content="\ud800"), "$.content"),
        (parse_object, note(templateFields=[{"label": "x"}]), "$.templateFields[0].name"),
        (parse_object, note(attachment=[{"type": "Document"}]), "$.attachment[0].url"),
        (parse_collection, {"type": "OrderedCollection", "totalItems": "3"}, "$.totalItems"),
        (parse_collection, note(), "$.type"),
    ],
)
def test_errors_name_the_exact_json_path(parse: Any, data: Any, path: str) -> None:
    assert error_of(parse, data).path == path


def test_a_public_key_that_does_not_load_is_a_parse_error_at_its_path() -> None:
    good = keys.public_key_document(RSA.public(ALICE))
    bad = good | {"publicKeyPem": "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----"}
    assert error_of(parse_actor, actor(publicKey=bad)).path == "$.publicKey.publicKeyPem"
    assert error_of(parse_actor, actor(publicKey=[good, bad])).path == "$.publicKey[1].publicKeyPem"
    non_ascii = good | {"publicKeyPem": "é"}
    assert error_of(parse_actor, actor(publicKey=non_ascii)).path == "$.publicKey.publicKeyPem"


def test_a_multikey_that_does_not_decode_is_a_parse_error_at_its_path() -> None:
    bad = keys.multikey_document(ED.public(ALICE)) | {"publicKeyMultibase": "z0OIl"}
    error = error_of(parse_actor, actor(assertionMethod=[bad]))
    assert error.path == "$.assertionMethod[0].publicKeyMultibase"


def test_objects_nest_at_most_max_depth() -> None:
    # Given Announce{Announce{…{Note}}} with the Note MAX_DEPTH levels down: accepted
    def wrap(obj: Any, times: int) -> Any:
        for _ in range(times):
            obj = {"type": "Announce", "actor": ALICE, "object": obj}
        return obj

    assert parse_object(wrap(note(), MAX_DEPTH))
    # When one more level is added, Then it is refused at the innermost object
    error = error_of(parse_object, wrap(note(), MAX_DEPTH + 1))
    assert error.path == "$" + ".object" * (MAX_DEPTH + 1)


def test_lists_are_bounded() -> None:
    assert as_object(parse_object(note(to=[ALICE] * MAX_ITEMS))).to == (ALICE,) * MAX_ITEMS
    assert error_of(parse_object, note(to=[ALICE] * (MAX_ITEMS + 1))).path == "$.to"
