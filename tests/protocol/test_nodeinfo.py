"""NodeInfo: our 2.1/2.0 documents and discovery JRD, the schema rules, reading peers."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from protocol.errors import ParseError
from protocol.nodeinfo import (
    APPLICATION_REL,
    NodeMetadata,
    Usage,
    content_type,
    nodeinfo,
    nodeinfo_jrd,
    parse_nodeinfo,
    pick_nodeinfo_href,
    validate_nodeinfo,
)

META = NodeMetadata(
    node_name="Care North",
    coop_name="Care North Co-op",
    coop_actor="https://north.example/coops/care-north",
    federation="https://federation.example/members",
)
USAGE = Usage(users_total=12, users_active_month=5, users_active_halfyear=9, local_posts=40)
KINDS = ["Resource", "Template", "Toolkit", "Question", "Answer", "Event"]


def build(**overrides: Any) -> dict[str, Any]:
    arguments: dict[str, Any] = {"software_version": "0.1.0", "open_registrations": False}
    return nodeinfo(META, USAGE, **(arguments | overrides))


# A Mastodon 4.x /nodeinfo/2.0 document (shape of app/serializers/nodeinfo/serializer.rb).
MASTODON_20 = {
    "version": "2.0",
    "software": {"name": "mastodon", "version": "4.3.2"},
    "protocols": ["activitypub"],
    "services": {"outbound": [], "inbound": []},
    "usage": {
        "users": {"total": 310000, "activeMonth": 25000, "activeHalfyear": 60000},
        "localPosts": 9000000,
    },
    "openRegistrations": True,
    "metadata": {"nodeName": "Mastodon", "nodeDescription": ""},
}


# -- our documents ----------------------------------------------------------------------------


def test_nodeinfo_21_document() -> None:
    document = build(repository="https://codeberg.org/care/sharing-care")
    assert document == {
        "version": "2.1",
        "software": {
            "name": "sharing-care",
            "version": "0.1.0",
            "repository": "https://codeberg.org/care/sharing-care",
        },
        "protocols": ["activitypub"],
        "services": {"inbound": [], "outbound": []},
        "openRegistrations": False,
        "usage": {
            "users": {"total": 12, "activeMonth": 5, "activeHalfyear": 9},
            "localPosts": 40,
        },
        "metadata": {
            "nodeName": "Care North",
            "sharingCare": {
                "coop": {
                    "name": "Care North Co-op",
                    "actor": "https://north.example/coops/care-north",
                },
                "federation": "https://federation.example/members",
                "kinds": KINDS,
            },
        },
    }


def test_nodeinfo_20_differs_only_in_version_and_software_links() -> None:
    links = {"repository": "https://codeberg.org/care/sc", "homepage": "https://care.example"}
    v21 = build(**links)
    v20 = build(version="2.0", **links)
    assert v20["version"] == "2.0"
    assert v20["software"] == {"name": "sharing-care", "version": "0.1.0"}
    assert {k: v for k, v in v20.items() if k not in ("version", "software")} == {
        k: v for k, v in v21.items() if k not in ("version", "software")
    }
    validate_nodeinfo(v20)


def test_federation_may_be_absent() -> None:
    meta = NodeMetadata("Solo", "Solo Co-op", "https://solo.example/coop")
    document = nodeinfo(meta, USAGE, software_version="1", open_registrations=True)
    assert document["metadata"]["sharingCare"]["federation"] is None
    assert document["metadata"]["sharingCare"]["kinds"] == KINDS


@pytest.mark.parametrize(
    ("usage", "path"),
    [
        (Usage(-1, 0, 0, 0), r"\$\.usage\.users\.total"),
        (Usage(0, -1, 0, 0), r"\$\.usage\.users\.activeMonth"),
        (Usage(0, 0, True, 0), r"\$\.usage\.users\.activeHalfyear"),
        (Usage(0, 0, 0, -5), r"\$\.usage\.localPosts"),
    ],
)
def test_nodeinfo_refuses_counts_the_schema_forbids(usage: Usage, path: str) -> None:
    with pytest.raises(ParseError, match=f"{path}: must be an integer >= 0"):
        nodeinfo(META, usage, software_version="1", open_registrations=False)


def test_nodeinfo_refuses_an_unknown_version() -> None:
    with pytest.raises(ParseError, match=r"\$\.version: must be one of 2\.1, 2\.0"):
        build(version="3.0")


def test_discovery_jrd_links_both_versions_and_the_application_actor() -> None:
    assert nodeinfo_jrd("https://north.example/", "https://north.example/actor") == {
        "links": [
            {
                "rel": "http://nodeinfo.diaspora.software/ns/schema/2.1",
                "href": "https://north.example/nodeinfo/2.1",
            },
            {
                "rel": "http://nodeinfo.diaspora.software/ns/schema/2.0",
                "href": "https://north.example/nodeinfo/2.0",
            },
            {
                "rel": "https://www.w3.org/ns/activitystreams#Application",
                "href": "https://north.example/actor",
            },
        ]
    }
    assert APPLICATION_REL == "https://www.w3.org/ns/activitystreams#Application"


def test_content_type_names_the_schema() -> None:
    assert content_type() == (
        'application/json; profile="http://nodeinfo.diaspora.software/ns/schema/2.1#"'
    )
    assert content_type("2.0").endswith('schema/2.0#"')


# -- schema rules -----------------------------------------------------------------------------


def test_a_mastodon_document_satisfies_the_schema() -> None:
    validate_nodeinfo(MASTODON_20)


def _broken(path: tuple[str | int, ...], value: object) -> dict[str, Any]:
    """Our 2.1 document with one value replaced (or removed, for ``...``)."""
    document = copy.deepcopy(build())
    target: Any = document
    for key in path[:-1]:
        target = target[key]
    if value is ...:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return document


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("metadata",), ..., r"\$: missing metadata"),
        (("extra",), 1, r"\$: unexpected extra"),
        (("version",), 2.1, r"\$\.version: must be one of"),
        (("software",), "sharing-care", r"\$\.software: must be an object"),
        (("software", "name"), "Sharing Care", r"\$\.software\.name: must match"),
        (("software", "name"), 7, r"\$\.software\.name: must be a string"),
        (("software", "version"), ..., r"\$\.software: missing version"),
        (("software", "license"), "AGPL", r"\$\.software: unexpected license"),
        (("software", "homepage"), None, r"\$\.software\.homepage: must be a string"),
        (("protocols",), [], r"\$\.protocols: must be an array of at least 1"),
        (("protocols",), "activitypub", r"\$\.protocols: must be an array"),
        (("protocols",), ["activitypub", "matrix"], r"\$\.protocols\[1\]: 'matrix' is not"),
        (("services", "outbound"), ..., r"\$\.services: missing outbound"),
        (("services", "inbound"), ["email"], r"\$\.services\.inbound\[0\]: 'email'"),
        (("services", "outbound"), ["myspace", 3], r"\$\.services\.outbound\[1\]: 3"),
        (("openRegistrations",), "yes", r"\$\.openRegistrations: must be a boolean"),
        (("usage", "users"), ..., r"\$\.usage: missing users"),
        (("usage", "posts"), 3, r"\$\.usage: unexpected posts"),
        (("usage", "users", "weekly"), 3, r"\$\.usage\.users: unexpected weekly"),
        (("usage", "users", "total"), 1.5, r"\$\.usage\.users\.total: must be an integer"),
        (("usage", "localComments"), -1, r"\$\.usage\.localComments: must be an integer"),
        (("metadata",), [], r"\$\.metadata: must be an object"),
    ],
)
def test_validate_nodeinfo_names_the_broken_rule(
    path: tuple[str, ...], value: object, message: str
) -> None:
    with pytest.raises(ParseError, match=message):
        validate_nodeinfo(_broken(path, value))


def test_validate_refuses_software_links_in_20() -> None:
    document = {**MASTODON_20, "software": {**MASTODON_20["software"], "homepage": "x"}}  # type: ignore[dict-item]
    with pytest.raises(ParseError, match=r"\$\.software: unexpected homepage"):
        validate_nodeinfo(document)


def test_validate_refuses_a_non_object() -> None:
    with pytest.raises(ParseError, match=r"\$: must be an object"):
        validate_nodeinfo(["2.1"])


# -- reading peers ----------------------------------------------------------------------------


def test_parse_our_own_document_recognises_a_sharing_care_node() -> None:
    info = parse_nodeinfo(build())
    assert info.software_name == "sharing-care"
    assert info.speaks_activitypub
    assert info.sharing_care == META
    assert info.node_name == "Care North"
    assert (info.users_total, info.users_active_month, info.users_active_halfyear) == (12, 5, 9)
    assert info.local_posts == 40


def test_parse_mastodon() -> None:
    info = parse_nodeinfo(MASTODON_20)
    assert (info.version, info.software_name, info.software_version) == ("2.0", "mastodon", "4.3.2")
    assert info.protocols == ("activitypub",)
    assert info.open_registrations is True
    assert info.sharing_care is None
    assert info.metadata["nodeDescription"] == ""


def test_parse_is_tolerant_of_schema_bending_peers() -> None:
    # Given a peer with an upper-case name, an early-2.0 protocols object and no usable usage
    info = parse_nodeinfo(
        {
            "version": "2.0",
            "software": {"name": " Pleroma ", "version": 3},
            "protocols": {"inbound": ["ActivityPub", "ostatus"], "outbound": ["activitypub"]},
            "usage": {"users": {"total": -3, "activeMonth": "many"}, "localPosts": True},
            "openRegistrations": "sometimes",
            "metadata": {"nodeName": 5, "sharingCare": {"coop": {"name": "X"}}},
        }
    )
    # Then what can be read is read, and the rest is None
    assert info.software_name == "pleroma"
    assert info.software_version is None
    assert info.protocols == ("activitypub", "ostatus")
    assert info.speaks_activitypub
    assert (info.users_total, info.users_active_month, info.local_posts) == (None, None, None)
    assert info.open_registrations is None
    assert info.node_name is None
    assert info.sharing_care is None


def test_parse_minimal_document() -> None:
    info = parse_nodeinfo({"version": "2.1", "software": {"name": "tiny"}})
    assert info.protocols == ()
    assert not info.speaks_activitypub
    assert dict(info.metadata) == {}


def test_parsed_metadata_is_read_only() -> None:
    info = parse_nodeinfo(MASTODON_20)
    with pytest.raises(TypeError):
        info.metadata["nodeName"] = "changed"  # type: ignore[index]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("nodeinfo", r"\$: must be an object"),
        ({"software": {"name": "x"}}, r"\$: missing version"),
        ({"version": 2.0, "software": {"name": "x"}}, r"\$\.version: must be a string"),
        ({"version": "2.0", "software": "mastodon"}, r"\$\.software: must be an object"),
        ({"version": "2.0", "software": {}}, r"\$\.software: missing name"),
        ({"version": "2.0", "software": {"name": ["x"]}}, r"\$\.software\.name: must be a non"),
        ({"version": "2.0", "software": {"name": "  "}}, r"\$\.software\.name: must be a non"),
    ],
)
def test_parse_refuses_documents_without_version_or_software(data: object, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        parse_nodeinfo(data)


def test_pick_nodeinfo_href_prefers_21() -> None:
    jrd = nodeinfo_jrd("https://north.example", "https://north.example/actor")
    assert pick_nodeinfo_href(jrd) == ("2.1", "https://north.example/nodeinfo/2.1")


def test_pick_nodeinfo_href_reads_mastodon_and_https_spellings() -> None:
    mastodon = {
        "links": [
            {
                "rel": "http://nodeinfo.diaspora.software/ns/schema/2.0",
                "href": "https://m.example/nodeinfo/2.0",
            }
        ]
    }
    assert pick_nodeinfo_href(mastodon) == ("2.0", "https://m.example/nodeinfo/2.0")
    odd = {
        "links": [
            "junk",
            {"rel": "https://nodeinfo.diaspora.software/ns/schema/2.1", "href": "https://o/2.1"},
        ]
    }
    assert pick_nodeinfo_href(odd) == ("2.1", "https://o/2.1")


@pytest.mark.parametrize(
    ("jrd", "message"),
    [
        ([], r"\$\.links: must be an array"),
        ({"links": {}}, r"\$\.links: must be an array"),
        ({"links": []}, "no NodeInfo 2.0 or 2.1 link"),
        (
            {"links": [{"rel": "http://nodeinfo.diaspora.software/ns/schema/1.0", "href": "x"}]},
            "no NodeInfo 2.0 or 2.1 link",
        ),
        (
            {"links": [{"rel": "http://nodeinfo.diaspora.software/ns/schema/2.1", "href": 1}]},
            "no NodeInfo 2.0 or 2.1 link",
        ),
    ],
)
def test_pick_nodeinfo_href_refuses_jrds_without_a_document(jrd: object, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        pick_nodeinfo_href(jrd)
