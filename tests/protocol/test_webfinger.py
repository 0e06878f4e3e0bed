"""WebFinger: handles, our JRDs in Mastodon's shape, reading and checking remote JRDs."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol.errors import WebFingerError
from protocol.webfinger import (
    AccountResource,
    ActorResource,
    ForeignResource,
    Handle,
    ServerResource,
    actor_jrd,
    check_loopback,
    host_meta_jrd,
    host_meta_xrd,
    parse_handle,
    parse_resource,
    pick_self_link,
    server_jrd,
    webfinger_url,
)

ALICE = Handle("alice", "coop.example")
ACTOR = "https://coop.example/users/alice"
PROFILE = "https://coop.example/@alice"

# The JRD Mastodon serves (webfinger_controller.rb; anchors.md §4.1).
MASTODON_JRD = {
    "subject": "acct:alice@coop.example",
    "aliases": [PROFILE, ACTOR],
    "links": [
        {"rel": "http://webfinger.net/rel/profile-page", "type": "text/html", "href": PROFILE},
        {"rel": "self", "type": "application/activity+json", "href": ACTOR},
        {
            "rel": "http://ostatus.org/schema/1.0/subscribe",
            "template": "https://coop.example/authorize_interaction?uri={uri}",
        },
    ],
}


# -- parse_handle ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("@alice@coop.example", ALICE),
        ("alice@coop.example", ALICE),
        ("acct:alice@coop.example", ALICE),
        ("ACCT:alice@Coop.EXAMPLE", ALICE),
        ("  @alice@coop.example\n", ALICE),
        ("Alice_B.c-d~@coop.example", Handle("Alice_B.c-d~", "coop.example")),
        ("alice@localhost:8001", Handle("alice", "localhost:8001")),
        ("alice@bücher.example", Handle("alice", "xn--bcher-kva.example")),
    ],
)
def test_parse_handle_accepts_the_three_spellings(text: str, expected: Handle) -> None:
    assert parse_handle(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "exactly one '@'"),
        ("alice", "exactly one '@'"),
        ("@alice", "exactly one '@'"),
        ("alice@@coop.example", "exactly one '@'"),
        ("a@b@coop.example", "exactly one '@'"),
        ("acct:@alice@coop.example", "exactly one '@'"),
        ("@@coop.example", "empty name or host"),
        ("alice@", "empty name or host"),
        ("acct:@coop.example", "empty name or host"),
        ("al ice@coop.example", "name has characters"),
        ("alice/x@coop.example", "name has characters"),
        ("alice%40x@coop.example", "name has characters"),
        ("alice@co op.example", "invalid host"),
        ("alice@coop_example.com", "invalid host"),
        ("alice@-coop.example", "invalid host"),
        ("alice@coop.example.", "invalid host"),
        ("alice@coop..example", "invalid host"),
        ("alice@coop.example/path", "invalid host"),
        ("alice@[::1]", "invalid host"),
        ("alice@" + "a" * 64 + ".example", "invalid host"),
        ("alice@coop.example:0", "invalid port"),
        ("alice@coop.example:65536", "invalid port"),
        ("alice@coop.example:80a", "invalid port"),
        ("alice@coop.example:", "invalid port"),
        ("alice@coop.example:1:2", "invalid port"),
    ],
)
def test_parse_handle_refuses_malformed_handles(text: str, message: str) -> None:
    with pytest.raises(WebFingerError, match=message):
        parse_handle(text)


@settings(max_examples=200)
@given(st.text())
def test_parse_handle_raises_only_webfinger_errors(text: str) -> None:
    try:
        handle = parse_handle(text)
    except WebFingerError:
        return
    # Whatever it accepts survives a round trip through its acct: URI.
    assert parse_handle(handle.acct) == handle


@settings(max_examples=200)
@given(
    st.from_regex(r"[A-Za-z0-9._~-]{1,20}", fullmatch=True),
    st.from_regex(r"[a-z0-9]{1,10}(\.[a-z0-9]{1,10}){0,3}", fullmatch=True),
)
def test_parse_handle_accepts_every_plain_handle(name: str, host: str) -> None:
    assert parse_handle(f"@{name}@{host.upper()}") == Handle(name, host)


def test_handle_forms() -> None:
    assert ALICE.acct == "acct:alice@coop.example"
    assert str(ALICE) == "@alice@coop.example"


# -- URLs and the JRDs we serve ---------------------------------------------------------------


def test_webfinger_url_percent_encodes_the_resource() -> None:
    assert webfinger_url(ALICE) == (
        "https://coop.example/.well-known/webfinger?resource=acct%3Aalice%40coop.example"
    )
    assert webfinger_url(Handle("bo", "localhost:8001"), scheme="http") == (
        "http://localhost:8001/.well-known/webfinger?resource=acct%3Abo%40localhost%3A8001"
    )


def test_webfinger_url_refuses_other_schemes() -> None:
    with pytest.raises(WebFingerError, match="must be https or http"):
        webfinger_url(ALICE, scheme="gopher")


def test_actor_jrd_is_exactly_mastodons_shape() -> None:
    jrd = actor_jrd(
        ALICE,
        ACTOR,
        PROFILE,
        subscribe_template="https://coop.example/authorize_interaction?uri={uri}",
    )
    assert jrd == MASTODON_JRD


def test_actor_jrd_without_subscribe_link_and_with_extra_aliases() -> None:
    jrd = actor_jrd(ALICE, ACTOR, PROFILE, aliases=[ACTOR, "https://coop.example/members/1"])
    assert jrd["aliases"] == [PROFILE, ACTOR, "https://coop.example/members/1"]
    assert [link["rel"] for link in jrd["links"]] == [
        "http://webfinger.net/rel/profile-page",
        "self",
    ]


def test_our_actor_jrd_passes_our_own_loopback_check() -> None:
    check_loopback(actor_jrd(ALICE, ACTOR, PROFILE), ALICE, ACTOR)


def test_server_jrd_follows_fep_d556() -> None:
    assert server_jrd("https://coop.example/", "https://coop.example/actor") == {
        "subject": "https://coop.example/",
        "aliases": ["https://coop.example/actor"],
        "links": [
            {
                "rel": "https://www.w3.org/ns/activitystreams#Service",
                "type": "application/activity+json",
                "href": "https://coop.example/actor",
            },
            {
                "rel": "self",
                "type": "application/activity+json",
                "href": "https://coop.example/actor",
            },
        ],
    }


def test_server_jrd_self_link_is_what_clients_pick() -> None:
    jrd = server_jrd("http://localhost:8001", "http://localhost:8001/actor")
    assert jrd["subject"] == "http://localhost:8001/"
    assert pick_self_link(jrd) == "http://localhost:8001/actor"


@pytest.mark.parametrize(
    ("base", "message"),
    [
        ("coop.example", "absolute http"),
        ("ftp://coop.example", "absolute http"),
        ("https://coop.example/sub", "without a path"),
        ("https://coop.example/?x=1", "without a path"),
    ],
)
def test_base_url_must_be_an_origin(base: str, message: str) -> None:
    with pytest.raises(WebFingerError, match=message):
        server_jrd(base, "https://coop.example/actor")
    with pytest.raises(WebFingerError, match=message):
        host_meta_xrd(base)


def test_host_meta_xrd_carries_the_lrdd_template() -> None:
    document = host_meta_xrd("https://coop.example")
    assert document.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    root = ET.fromstring(document)  # noqa: S314 - our own output
    ns = "{http://docs.oasis-open.org/ns/xri/xrd-1.0}"
    assert root.tag == f"{ns}XRD"
    (link,) = root.findall(f"{ns}Link")
    assert link.attrib == {
        "rel": "lrdd",
        "template": "https://coop.example/.well-known/webfinger?resource={uri}",
    }


def test_host_meta_jrd() -> None:
    assert host_meta_jrd("https://Coop.Example/") == {
        "links": [
            {"rel": "lrdd", "template": "https://coop.example/.well-known/webfinger?resource={uri}"}
        ]
    }


# -- reading remote JRDs ----------------------------------------------------------------------


def test_pick_self_link_reads_mastodon() -> None:
    assert pick_self_link(MASTODON_JRD) == ACTOR


def test_pick_self_link_accepts_the_ld_json_profile_type() -> None:
    jrd = {
        "links": [
            {
                "rel": "self",
                "type": 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"',
                "href": ACTOR,
            }
        ]
    }
    assert pick_self_link(jrd) == ACTOR


def test_pick_self_link_prefers_activity_json_whatever_the_order() -> None:
    ld = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
    jrd = {
        "links": [
            {"rel": "self", "type": ld, "href": "https://coop.example/ld"},
            {"rel": "self", "type": "Application/Activity+JSON; charset=utf-8", "href": ACTOR},
        ]
    }
    assert pick_self_link(jrd) == ACTOR


def test_pick_self_link_skips_malformed_entries() -> None:
    jrd = {
        "links": [
            "self",
            {"rel": "self", "type": "application/activity+json", "href": 42},
            {"rel": "self", "type": "application/activity+json", "href": "javascript:alert(1)"},
            {"rel": "self", "type": "application/activity+json", "href": ACTOR},
        ]
    }
    assert pick_self_link(jrd) == ACTOR


@pytest.mark.parametrize(
    ("jrd", "message"),
    [
        ([], "not a JSON object"),
        ("acct:alice@coop.example", "not a JSON object"),
        ({}, "no 'links' array"),
        ({"links": {"rel": "self"}}, "no 'links' array"),
        ({"links": []}, "no 'self' link"),
        ({"links": [{"rel": "self", "type": "text/html", "href": ACTOR}]}, "no 'self' link"),
        ({"links": [{"rel": "self", "href": ACTOR}]}, "no 'self' link"),
        (
            {"links": [{"rel": "self", "type": "application/ld+json", "href": ACTOR}]},
            "no 'self' link",
        ),
        (
            {"links": [{"rel": "alternate", "type": "application/activity+json", "href": ACTOR}]},
            "no 'self' link",
        ),
    ],
)
def test_pick_self_link_refuses_unusable_jrds(jrd: object, message: str) -> None:
    with pytest.raises(WebFingerError, match=message):
        pick_self_link(jrd)


def test_loopback_accepts_case_differences_and_a_bare_subject() -> None:
    # Given a JRD whose subject differs only in case and lacks "acct:" (Mastodon strips it too)
    jrd = {**MASTODON_JRD, "subject": "Alice@COOP.example"}
    # Then the round trip still holds
    check_loopback(jrd, ALICE, ACTOR)


@pytest.mark.parametrize(
    ("jrd", "message"),
    [
        ({"links": MASTODON_JRD["links"]}, "no 'subject'"),
        ([], "no 'subject'"),
        ({**MASTODON_JRD, "subject": "acct:mallory@coop.example"}, "is not 'acct:alice@"),
        ({**MASTODON_JRD, "subject": "acct:alice@evil.example"}, "is not 'acct:alice@"),
        ({**MASTODON_JRD, "subject": "https://coop.example/users/alice"}, "exactly one '@'"),
        ({**MASTODON_JRD, "subject": ["acct:alice@coop.example"]}, "no 'subject'"),
    ],
)
def test_loopback_refuses_a_subject_that_is_not_the_handle(jrd: object, message: str) -> None:
    with pytest.raises(WebFingerError, match=message):
        check_loopback(jrd, ALICE, ACTOR)


def test_loopback_refuses_a_self_link_to_another_actor() -> None:
    # Given evil.example claims alice's handle for its own actor
    with pytest.raises(WebFingerError, match="does not loop back"):
        check_loopback(MASTODON_JRD, ALICE, "https://evil.example/users/alice")


# -- incoming resource parameter --------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("acct:alice@coop.example", AccountResource(ALICE)),
        ("alice@coop.example", AccountResource(ALICE)),
        ("@alice@Coop.Example", AccountResource(ALICE)),
        ("acct:alice@elsewhere.example", ForeignResource("elsewhere.example")),
        ("https://coop.example/", ServerResource("https://coop.example/")),
        ("https://coop.example", ServerResource("https://coop.example/")),
        ("https://coop.example:443/", ServerResource("https://coop.example/")),
        ("https://coop.example/users/alice", ActorResource("https://coop.example/users/alice")),
        ("https://coop.example/@alice", ActorResource("https://coop.example/@alice")),
        ("https://coop.example/?page=1", ActorResource("https://coop.example/?page=1")),
        ("https://elsewhere.example/users/x", ForeignResource("elsewhere.example")),
        ("https://coop.example:8443/", ForeignResource("coop.example:8443")),
    ],
)
def test_parse_resource(value: str, expected: object) -> None:
    assert parse_resource(value, "coop.example") == expected


def test_parse_resource_on_a_development_host_with_a_port() -> None:
    assert parse_resource("http://localhost:8001/", "localhost:8001") == ServerResource(
        "http://localhost:8001/"
    )
    assert parse_resource("acct:bo@localhost:8001", "localhost:8001") == AccountResource(
        Handle("bo", "localhost:8001")
    )


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "exactly one '@'"),
        ("alice", "exactly one '@'"),
        ("mailto:alice@coop.example", "unsupported scheme"),
        ("did:web:coop.example", "unsupported scheme"),
        ("https://[::1/", "not a valid URL"),
        ("https://coop.example:99999/", "not a valid URL"),
        ("https:///users/alice", "not a usable URL"),
        ("https://alice@coop.example/", "not a usable URL"),
        ("https://coop.example/users/alice#main-key", "not a usable URL"),
    ],
)
def test_parse_resource_refuses_malformed_values(value: str, message: str) -> None:
    with pytest.raises(WebFingerError, match=message):
        parse_resource(value, "coop.example")


@settings(max_examples=200)
@given(st.sampled_from(["", "acct:", "https://", "http://coop.example", "@"]), st.text())
def test_parse_resource_raises_only_webfinger_errors(prefix: str, rest: str) -> None:
    try:
        result = parse_resource(prefix + rest, "coop.example")
    except WebFingerError:
        return
    assert isinstance(result, AccountResource | ActorResource | ServerResource | ForeignResource)


def test_error_messages_quote_untrusted_input_briefly() -> None:
    with pytest.raises(WebFingerError) as raised:
        parse_handle("x" * 10_000)
    assert len(str(raised.value)) < 200
    assert "xxx...'" in str(raised.value)
