"""FEDERATION.md: every example is valid, parses, and uses only defined JSON-LD terms.

The document is for other implementers, so an example that our own parser
rejects, or that carries a key no context defines, is a bug in the document.
Fences are ``json`` (an ActivityStreams document), ``json jrd`` (WebFinger),
``json nodeinfo`` (NodeInfo discovery or document) and ``json context`` (our
``@context``). The ``http`` examples are real signatures and must verify.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from protocol import httpsig, nodeinfo, vocab, webfinger
from protocol.http import HttpRequest
from protocol.parse import parse_activity, parse_actor, parse_object
from protocol.serialize import dumps
from tests.protocol.ldcheck import dropped_keys, expand, undefined_terms

FEDERATION_MD = Path(__file__).resolve().parents[2] / "FEDERATION.md"
TEXT = FEDERATION_MD.read_text(encoding="utf-8")
FENCE = re.compile(r"^```(json[^\n]*|http)\n(.*?)\n```$", re.DOTALL | re.MULTILINE)
BLOCKS: list[tuple[int, str, str]] = [
    (TEXT.count("\n", 0, match.start()) + 1, match.group(1).strip(), match.group(2))
    for match in FENCE.finditer(TEXT)
]
KNOWN_TAGS = {"json", "json jrd", "json nodeinfo", "json context", "http"}


def _blocks(tag: str) -> list[tuple[int, str]]:
    return [(line, body) for line, kind, body in BLOCKS if kind == tag]


def _ids(blocks: list[tuple[int, str]]) -> list[str]:
    return [f"line{line}" for line, _ in blocks]


AS_BLOCKS = _blocks("json")
AS_DOCS: list[dict[str, Any]] = [json.loads(body) for _, body in AS_BLOCKS]


def test_the_document_has_examples_of_every_kind() -> None:
    kinds = {kind for _, kind, _ in BLOCKS}
    assert kinds == KNOWN_TAGS
    assert len(AS_BLOCKS) >= 35


def test_every_json_fence_is_tagged_with_a_kind_we_check() -> None:
    untagged = re.findall(r"^```(\w[^\n]*)$", TEXT, re.MULTILINE)
    assert {tag.strip() for tag in untagged} <= KNOWN_TAGS


@pytest.mark.parametrize(("line", "body"), [(ln, b) for ln, k, b in BLOCKS if k != "http"])
def test_every_json_block_is_valid_json(line: int, body: str) -> None:
    assert isinstance(json.loads(body), dict), f"FEDERATION.md line {line}"


@pytest.mark.parametrize(("line", "body"), AS_BLOCKS, ids=_ids(AS_BLOCKS))
def test_every_as_example_parses(line: int, body: str) -> None:
    document = json.loads(body)
    parsed = parse_object(document)
    assert parsed.type.value == document["type"], f"FEDERATION.md line {line}"


@pytest.mark.parametrize(("line", "body"), AS_BLOCKS, ids=_ids(AS_BLOCKS))
def test_every_as_example_carries_exactly_our_context(line: int, body: str) -> None:
    assert json.loads(body)["@context"] == vocab.context(), f"FEDERATION.md line {line}"


@pytest.mark.parametrize(("line", "body"), AS_BLOCKS, ids=_ids(AS_BLOCKS))
def test_every_as_example_expands_offline_with_every_term_defined(line: int, body: str) -> None:
    document = json.loads(body)
    assert undefined_terms(expand(document)) == set(), f"FEDERATION.md line {line}"
    assert dropped_keys(document) == set(), f"FEDERATION.md line {line}"


@pytest.mark.parametrize(("line", "body"), _blocks("json jrd"), ids=_ids(_blocks("json jrd")))
def test_jrd_examples_name_an_actor_in_the_document(line: int, body: str) -> None:
    actor_ids = {doc["id"] for doc in AS_DOCS if "inbox" in doc}
    assert webfinger.pick_self_link(json.loads(body)) in actor_ids, f"line {line}"


def test_the_coop_jrd_loops_back_to_the_coop_actor() -> None:
    # Given the co-op's actor document and the JRD for its handle
    coop = next(doc for doc in AS_DOCS if doc["type"] == "Group")
    jrd = next(json.loads(b) for _, b in _blocks("json jrd") if "acct:" in b)
    handle = webfinger.parse_handle(jrd["subject"])
    # Then Mastodon's loop-back check passes and the handle is the preferredUsername
    webfinger.check_loopback(jrd, handle, coop["id"])
    assert handle.name == coop["preferredUsername"]


@pytest.mark.parametrize(
    ("line", "body"), _blocks("json nodeinfo"), ids=_ids(_blocks("json nodeinfo"))
)
def test_nodeinfo_examples_are_valid(line: int, body: str) -> None:
    document = json.loads(body)
    if "version" in document:
        nodeinfo.validate_nodeinfo(document)
        assert nodeinfo.parse_nodeinfo(document).sharing_care is not None
    else:
        assert nodeinfo.pick_nodeinfo_href(document)[0] == "2.1", f"line {line}"


def test_the_context_block_is_the_context_we_emit() -> None:
    (block,) = _blocks("json context")
    assert json.loads(block[1]) == {"@context": vocab.context()}


# --- what the prose promises about the examples --------------------------------------------


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    if isinstance(value, dict):
        return [s for key, item in value.items() if key != "@context" for s in _strings(item)]
    return []


def _keys(value: Any) -> set[str]:
    """Every key used anywhere in a document, ``@context`` excluded."""
    if isinstance(value, list):
        return {key for item in value for key in _keys(item)}
    if isinstance(value, dict):
        inner = {key for k, v in value.items() if k != "@context" for key in _keys(v)}
        return (value.keys() - {"@context"}) | inner
    return set()


def test_no_example_carries_bto_or_bcc() -> None:
    for document in AS_DOCS:
        assert not {"bto", "bcc"} & _keys(document)


def test_chatham_house_examples_name_no_member() -> None:
    chatham = [doc for doc in AS_DOCS if "chathamHouse" in _keys(doc)]
    assert len(chatham) == 2  # the object and its Create
    for document in chatham:
        assert not [s for s in _strings(document) if "/members/" in s]


def test_federation_only_examples_never_address_the_public() -> None:
    coop = next(doc for doc in AS_DOCS if doc["type"] == "Group")
    federation_docs = [d for d in AS_DOCS if coop["federation"] in d.get("to", [])]
    assert federation_docs
    for document in federation_docs:
        assert not set(_strings(document)) & vocab.PUBLIC_ADDRESSES


def test_every_actor_example_publishes_a_main_key_owned_by_itself() -> None:
    actors = [parse_actor(doc) for doc in AS_DOCS if "inbox" in doc]
    assert {actor.type.value for actor in actors} == {"Group", "Person", "Application"}
    for actor in actors:
        key = actor.public_key
        assert key is not None
        assert (key.id, key.owner) == (f"{actor.id}#main-key", actor.id)


# --- the signed requests are real ----------------------------------------------------------


def _request(block: str, body: bytes) -> HttpRequest:
    request_line, *header_lines = block.splitlines()
    method, target, _ = request_line.split(" ")
    pairs = [line.split(":", 1) for line in header_lines]
    headers = [(name.strip(), value.strip()) for name, value in pairs]
    host = {name.lower(): value for name, value in headers}["host"]
    return HttpRequest.build(method, f"https://{host}{target}", headers, body)


@pytest.mark.parametrize("index", [0, 1], ids=["rfc9421", "cavage"])
def test_signed_request_examples_verify_with_the_coop_key(index: int) -> None:
    # Given the Accept example (the signed body, sent as canonical bytes) and the co-op's key
    accept = next(doc for doc in AS_DOCS if doc["type"] == "Accept")
    coop = parse_actor(next(doc for doc in AS_DOCS if doc["type"] == "Group"))
    assert coop.public_key is not None
    request = _request(_blocks("http")[index][1], dumps(accept))
    # When the request's signature is read and checked a minute after it was made
    params = httpsig.parse_signature(request)
    assert params.key_id == coop.public_key.id
    assert params.created is not None or "date" in request.headers
    made = params.created or httpsig.parse_http_date(request.headers["date"])
    verified = httpsig.verify(request, params, coop.public_key, now=made + timedelta(minutes=1))
    # Then it verifies as the co-op, which is the activity's actor (the inbox rule)
    assert verified.signer == coop.id
    assert parse_activity(accept).actor == coop.id
