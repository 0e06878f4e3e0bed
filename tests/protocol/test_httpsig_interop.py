"""Cross-verification with independent implementations, both directions.

* draft-cavage: the PyPI ``httpsig`` 1.3.0 (pycryptodome; RSA and HMAC only).
* RFC 9421: the PyPI ``http-message-signatures`` (cryptography + http_sf).

http-message-signatures checks ``created`` against the real clock (5 s
skew), so its cases sign and verify at ``datetime.now``: tests may read the
clock, `protocol` may not.
"""

from __future__ import annotations

import base64
import hashlib
import types
from datetime import UTC, datetime

import httpsig as pypi_httpsig
import pytest
from http_message_signatures import (
    HTTPMessageSigner,
    HTTPMessageVerifier,
    MappingKeyResolver,
    algorithms,
)
from http_message_signatures import InvalidSignature as TheirInvalidSignature

from protocol import keys
from protocol.errors import DigestMismatch, InvalidSignature
from protocol.http import HttpRequest
from protocol.httpsig import (
    Scheme,
    format_http_date,
    parse_signature,
    sign_cavage,
    sign_rfc9421,
    verify,
)

ACTOR = "https://coop.example/users/ana"
INBOX = "https://care.example/users/bob/inbox"
PATH = "/users/bob/inbox"
NOW = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)
BODY = b'{"type":"Create","object":{"type":"Note","content":"hello"}}'
REQUIRED = ["(request-target)", "host", "date", "digest"]


@pytest.fixture(scope="module")
def rsa_key() -> keys.SigningKey:
    return keys.generate_rsa(f"{ACTOR}#main-key")


@pytest.fixture(scope="module")
def ed_key() -> keys.SigningKey:
    return keys.generate_ed25519(f"{ACTOR}#ed25519-key")


def inbox_post() -> HttpRequest:
    return HttpRequest.build(
        "POST",
        INBOX,
        {"Host": "care.example", "Content-Type": "application/activity+json"},
        BODY,
    )


# --- draft-cavage with PyPI httpsig --------------------------------------------


def test_cavage_we_sign_pypi_httpsig_verifies(rsa_key: keys.SigningKey) -> None:
    # Given a POST we signed
    signed = inbox_post().with_headers(sign_cavage(inbox_post(), rsa_key, now=NOW))

    def their_verdict(headers: dict[str, str]) -> bool:
        verifier = pypi_httpsig.HeaderVerifier(
            headers,
            rsa_key.public(ACTOR).pem(),
            required_headers=REQUIRED,
            method="POST",
            path=PATH,
            sign_header="signature",
        )
        return bool(verifier.verify())

    # Then the independent implementation accepts it
    assert their_verdict(dict(signed.headers))
    # And rejects it once a signed header changes (so its yes means something)
    assert not their_verdict({**signed.headers, "date": format_http_date(datetime.now(UTC))})


def test_cavage_get_we_sign_pypi_httpsig_verifies(rsa_key: keys.SigningKey) -> None:
    request = HttpRequest.build("GET", "https://care.example/users/bob", {"Host": "care.example"})
    signed = request.with_headers(sign_cavage(request, rsa_key, now=NOW))
    verifier = pypi_httpsig.HeaderVerifier(
        dict(signed.headers),
        rsa_key.public(ACTOR).pem(),
        required_headers=["(request-target)", "host", "date"],
        method="GET",
        path="/users/bob",
        sign_header="signature",
    )
    assert verifier.verify()


@pytest.mark.parametrize("sign_header", ["signature", "authorization"])
def test_cavage_pypi_httpsig_signs_we_verify(rsa_key: keys.SigningKey, sign_header: str) -> None:
    # Given headers signed by the independent implementation, digest computed here
    digest = base64.b64encode(hashlib.sha256(BODY).digest()).decode()
    headers = {
        "Host": "care.example",
        "Date": format_http_date(NOW),
        "Digest": f"SHA-256={digest}",
        "Content-Type": "application/activity+json",
    }
    signer = pypi_httpsig.HeaderSigner(
        rsa_key.id,
        rsa_key.pem(),
        algorithm="rsa-sha256",
        headers=[*REQUIRED, "content-type"],
        sign_header=sign_header,
    )
    signed_headers = signer.sign(headers, method="POST", path=PATH)
    request = HttpRequest.build("POST", INBOX, dict(signed_headers), BODY)
    # Then we verify it
    params = parse_signature(request)
    assert params.covered == (*REQUIRED, "content-type")
    assert verify(request, params, rsa_key.public(ACTOR), now=NOW).signer == ACTOR
    # And refuse it with another body
    tampered = HttpRequest.build("POST", INBOX, dict(signed_headers), BODY + b" ")
    with pytest.raises(DigestMismatch):
        verify(tampered, parse_signature(tampered), rsa_key.public(ACTOR), now=NOW)


# --- RFC 9421 with http-message-signatures ----------------------------------------


def _their_setup(
    key: keys.SigningKey,
) -> tuple[type[algorithms.HTTPSignatureAlgorithm], MappingKeyResolver]:
    algorithm = algorithms.RSA_V1_5_SHA256 if key.algorithm == "rsa" else algorithms.ED25519
    resolver = MappingKeyResolver(
        public_keys={key.id: key.key.public_key()}, private_keys={key.id: key.key}
    )
    return algorithm, resolver


def _message(headers: dict[str, str]) -> types.SimpleNamespace:
    return types.SimpleNamespace(method="POST", url=INBOX, headers=headers)


@pytest.mark.parametrize("which", ["rsa_key", "ed_key"])
def test_rfc9421_we_sign_http_message_signatures_verifies(
    which: str, request: pytest.FixtureRequest
) -> None:
    key: keys.SigningKey = request.getfixturevalue(which)
    now = datetime.now(UTC)
    # Given a POST we signed
    signed = inbox_post().with_headers(sign_rfc9421(inbox_post(), key, now=now))
    algorithm, resolver = _their_setup(key)
    verifier = HTTPMessageVerifier(signature_algorithm=algorithm, key_resolver=resolver)
    required = ("@method", "@target-uri", "content-digest")
    # Then the independent implementation accepts it, digest included
    results = verifier.verify(
        _message(dict(signed.headers)), require_components=required, body=BODY
    )
    assert results[0].parameters["keyid"] == key.id
    assert results[0].body == BODY
    # And refuses a changed body or a changed covered header
    with pytest.raises(TheirInvalidSignature):
        verifier.verify(_message(dict(signed.headers)), require_components=required, body=b"{}")
    changed = {**signed.headers, "content-type": "text/plain"}
    with pytest.raises(TheirInvalidSignature):
        verifier.verify(_message(changed), require_components=required, body=BODY)


@pytest.mark.parametrize("which", ["rsa_key", "ed_key"])
def test_rfc9421_http_message_signatures_signs_we_verify(
    which: str, request: pytest.FixtureRequest
) -> None:
    key: keys.SigningKey = request.getfixturevalue(which)
    now = datetime.now(UTC)
    # Given a POST signed by the independent implementation (it adds Content-Digest)
    algorithm, resolver = _their_setup(key)
    headers = {"Host": "care.example", "Content-Type": "application/activity+json"}
    message = _message(headers)
    HTTPMessageSigner(signature_algorithm=algorithm, key_resolver=resolver).sign(
        message,
        key_id=key.id,
        created=now,
        label="sig1",
        covered_component_ids=("@method", "@target-uri", "content-type"),
        body=BODY,
    )
    signed = HttpRequest.build("POST", INBOX, message.headers, BODY)
    # Then we verify it
    params = parse_signature(signed)
    assert params.covered == ("@method", "@target-uri", "content-type", "content-digest")
    verified = verify(signed, params, key.public(ACTOR), now=now)
    assert (verified.scheme, verified.signer) == (Scheme.RFC9421, ACTOR)
    # And refuse it once the target changes
    moved = HttpRequest.build("POST", INBOX + "2", message.headers, BODY)
    with pytest.raises(InvalidSignature):
        verify(moved, parse_signature(moved), key.public(ACTOR), now=now)


def test_rfc9421_their_structured_digest_coverage_verifies(ed_key: keys.SigningKey) -> None:
    # Given their signature over the re-serialised Content-Digest ("sf", RFC 9421 §2.1.1)
    now = datetime.now(UTC)
    algorithm, resolver = _their_setup(ed_key)
    message = _message({"Host": "care.example", "Content-Type": "application/activity+json"})
    HTTPMessageSigner(signature_algorithm=algorithm, key_resolver=resolver).sign(
        message,
        key_id=ed_key.id,
        created=now,
        covered_component_ids=("@method", "@target-uri", '"content-digest";sf'),
        body=BODY,
    )
    signed = HttpRequest.build("POST", INBOX, message.headers, BODY)
    params = parse_signature(signed)
    assert '"content-digest";sf' in params.components
    verify(signed, params, ed_key.public(ACTOR), now=now)
