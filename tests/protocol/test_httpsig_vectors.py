"""RFC 9421 Appendix B vectors (tests/fixtures/rfc9421/, origins in tests/fixtures/README.md).

B.2.6 is the only Appendix B signature that applies to us: B.2.1-B.2.3 use
rsa-pss-sha512 (refused here), B.2.4 signs a response with ECDSA and B.2.5
uses HMAC. Appendix B has no rsa-v1_5-sha256 example.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from protocol import keys
from protocol.errors import ComponentNotCovered, UnsupportedAlgorithm
from protocol.http import HttpRequest
from protocol.httpsig import Scheme, check_content_digest, parse_signature, verify
from protocol.httpsig.rfc9421 import signature_base

FIXTURES = Path(__file__).parent.parent / "fixtures" / "rfc9421"
CREATED = datetime.fromtimestamp(1618884473, UTC)


@pytest.fixture(scope="module")
def vector() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((FIXTURES / "b26-ed25519.json").read_text())
    return loaded


@pytest.fixture(scope="module")
def test_key() -> keys.SigningKey:
    return keys.load_private_pem(
        (FIXTURES / "test-key-ed25519.pem").read_text(), "test-key-ed25519"
    )


def vector_request(vector: dict[str, Any]) -> HttpRequest:
    request = vector["request"]
    headers = {
        **request["headers"],
        "Signature-Input": vector["signature_input"],
        "Signature": vector["signature"],
    }
    return HttpRequest.build(request["method"], request["url"], headers, request["body"].encode())


def test_the_published_key_pair_matches(test_key: keys.SigningKey) -> None:
    public = keys.load_public_pem(
        (FIXTURES / "test-key-ed25519.pub.pem").read_text(), "test-key-ed25519", "rfc"
    )
    assert test_key.public("rfc").pem() == public.pem()


def test_b26_parses(vector: dict[str, Any]) -> None:
    params = parse_signature(vector_request(vector))

    assert params.scheme is Scheme.RFC9421
    assert params.key_id == "test-key-ed25519"
    assert params.algorithm is None
    assert params.covered == (
        "date",
        "@method",
        "@path",
        "@authority",
        "content-type",
        "content-length",
    )
    assert params.created == CREATED
    assert params.signature == base64.b64decode(vector["signature"].split(":")[1])


def test_b26_signature_base_is_reproduced_byte_for_byte(vector: dict[str, Any]) -> None:
    request = vector_request(vector)
    base = signature_base(request, parse_signature(request))
    assert base == "\n".join(vector["signature_base"]).encode()


def test_b26_signature_verifies_and_ed25519_reproduces_it(
    vector: dict[str, Any], test_key: keys.SigningKey
) -> None:
    request = vector_request(vector)
    params = parse_signature(request)
    base = signature_base(request, params)
    # The published signature verifies over the base we rebuilt.
    test_key.public("rfc").verify(params.signature, base)
    # Ed25519 is deterministic, so signing the base gives the published bytes.
    assert test_key.sign(base) == params.signature


def test_b26_fails_our_policy_only_for_its_coverage(
    vector: dict[str, Any], test_key: keys.SigningKey
) -> None:
    # B.2.6 signs a body without covering content-digest, and not @target-uri:
    # our (Mastodon's) policy refuses it before any cryptography.
    request = vector_request(vector)
    with pytest.raises(ComponentNotCovered, match="content-digest"):
        verify(request, parse_signature(request), test_key.public("rfc"), now=CREATED)


def test_b2_request_content_digest_matches_its_body(vector: dict[str, Any]) -> None:
    request = vector_request(vector)
    check_content_digest(request.headers["content-digest"], request.body)


def test_b21_style_rsa_pss_is_refused() -> None:
    # B.2.1-B.2.3 use rsa-pss-sha512; with alg given we refuse before any key lookup.
    request = HttpRequest.build(
        "POST",
        "https://example.com/foo?param=Value&Pet=dog",
        {
            "Signature-Input": 'sig-b21=();created=1618884473;keyid="test-key-rsa-pss";'
            'alg="rsa-pss-sha512"',
            "Signature": "sig-b21=:AAAA:",
        },
    )
    with pytest.raises(UnsupportedAlgorithm):
        parse_signature(request)
