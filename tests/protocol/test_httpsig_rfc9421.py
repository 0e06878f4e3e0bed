"""RFC 9421 signatures: sign, parse, verify, and every way verification fails."""

from __future__ import annotations

import base64
import dataclasses
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest

from protocol import keys
from protocol.errors import (
    ComponentNotCovered,
    DigestMismatch,
    InvalidSignature,
    SignatureExpired,
    SignatureMalformed,
    UnsupportedAlgorithm,
)
from protocol.http import HttpRequest
from protocol.httpsig import (
    Scheme,
    VerifiedSignature,
    content_digest_header,
    parse_signature,
    sign,
    sign_rfc9421,
    verify,
)
from protocol.httpsig.rfc9421 import signature_base

if TYPE_CHECKING:
    from collections.abc import Callable

ACTOR = "https://coop.example/users/ana"
INBOX = "https://care.example/users/bob/inbox"
NOW = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)
CREATED = int(NOW.timestamp())
BODY = b'{"type":"Follow","actor":"https://coop.example/users/ana"}'


@pytest.fixture(scope="module")
def rsa_key() -> keys.SigningKey:
    return keys.generate_rsa(f"{ACTOR}#main-key")


@pytest.fixture(scope="module")
def ed_key() -> keys.SigningKey:
    return keys.generate_ed25519(f"{ACTOR}#ed25519-key")


@pytest.fixture(params=["rsa", "ed25519"])
def key(request: pytest.FixtureRequest) -> keys.SigningKey:
    name = "rsa_key" if request.param == "rsa" else "ed_key"
    signing_key: keys.SigningKey = request.getfixturevalue(name)
    return signing_key


def post(body: bytes = BODY) -> HttpRequest:
    headers = {"Host": "care.example", "Content-Type": "application/activity+json"}
    return HttpRequest.build("POST", INBOX, headers, body)


def get() -> HttpRequest:
    return HttpRequest.build(
        "GET", "https://care.example/users/bob?page=2", {"Host": "care.example"}
    )


def signed(request: HttpRequest, key: keys.SigningKey) -> HttpRequest:
    return request.with_headers(sign_rfc9421(request, key, now=NOW))


def check(request: HttpRequest, key: keys.SigningKey, now: datetime = NOW) -> VerifiedSignature:
    return verify(request, parse_signature(request), key.public(ACTOR), now=now)


def hand_signed(
    request: HttpRequest, key: keys.SigningKey, components: str, params: str, label: str = "sig"
) -> HttpRequest:
    """Sign an arbitrary Signature-Input with our own base builder."""
    with_input = request.with_headers({"signature-input": f"{label}=({components}){params}"})
    placeholder = with_input.with_headers({"signature": f"{label}=:AAAA:"})
    base = signature_base(placeholder, parse_signature(placeholder))
    encoded = base64.b64encode(key.sign(base)).decode()
    return with_input.with_headers({"signature": f"{label}=:{encoded}:"})


# --- round trips ---------------------------------------------------------------


@pytest.mark.parametrize("make", [post, get], ids=["POST", "GET"])
def test_sign_then_verify_round_trip(make: Callable[[], HttpRequest], key: keys.SigningKey) -> None:
    # Given a request signed with RFC 9421
    request = signed(make(), key)
    # When the receiving node parses it and verifies with the key it found
    params = parse_signature(request)
    verified = verify(request, params, key.public(ACTOR), now=NOW)
    # Then it knows who signed and when
    assert params.scheme is Scheme.RFC9421
    assert params.key_id == key.id
    assert verified == VerifiedSignature(key.id, ACTOR, Scheme.RFC9421, NOW)


def test_sign_writes_content_digest_and_the_signature_fields(rsa_key: keys.SigningKey) -> None:
    added = sign_rfc9421(post(), rsa_key, now=NOW)

    assert set(added) == {"content-digest", "signature-input", "signature"}
    assert added["content-digest"] == content_digest_header(BODY)
    assert added["signature-input"] == (
        'sig1=("@method" "@target-uri" "content-digest" "content-type")'
        f';created={CREATED};keyid="{rsa_key.id}";alg="rsa-v1_5-sha256"'
    )
    assert added["signature"].startswith("sig1=:")


def test_get_covers_method_and_target_uri_only(ed_key: keys.SigningKey) -> None:
    added = sign_rfc9421(get(), ed_key, now=NOW, label="knock", expires_in=timedelta(minutes=2))

    assert "content-digest" not in added
    assert added["signature-input"] == (
        f'knock=("@method" "@target-uri");created={CREATED};expires={CREATED + 120}'
        f';keyid="{ed_key.id}";alg="ed25519"'
    )
    params = parse_signature(get().with_headers(added))
    assert params.expires == NOW + timedelta(minutes=2)
    assert params.covered == ("@method", "@target-uri")


def test_sign_dispatches_on_scheme(rsa_key: keys.SigningKey) -> None:
    # Double-knocking: the node signs with RFC 9421 first, cavage on a 401/403.
    modern = sign(post(), rsa_key, now=NOW, scheme=Scheme.RFC9421)
    legacy = sign(post(), rsa_key, now=NOW, scheme=Scheme.CAVAGE)
    assert "signature-input" in modern
    assert "signature-input" not in legacy
    assert check(post().with_headers(legacy), rsa_key).scheme is Scheme.CAVAGE


def test_authority_and_path_may_stand_in_for_the_target_uri(ed_key: keys.SigningKey) -> None:
    request = hand_signed(
        post().with_headers({"content-digest": content_digest_header(BODY)}),
        ed_key,
        '"@method" "@authority" "@path" "@scheme" "@query" "@request-target" "content-digest"',
        f';created={CREATED};keyid="{ed_key.id}"',
    )
    assert check(request, ed_key).created == NOW


def test_content_digest_with_sf_and_key_parameters(ed_key: keys.SigningKey) -> None:
    # RFC 9421 §2.1.1-2: "sf" re-serialises a structured field, "key" picks a member.
    request = post().with_headers(
        {"content-digest": "sha-256=:" + content_digest_header(BODY)[9:-1] + ":  "}
    )
    request = hand_signed(
        request,
        ed_key,
        '"@method" "@target-uri" "content-digest";sf "content-digest";key="sha-256"',
        f';created={CREATED};keyid="{ed_key.id}";alg="ed25519"',
    )
    params = parse_signature(request)
    assert params.components[2:] == ('"content-digest";sf', '"content-digest";key="sha-256"')
    check(request, ed_key)


def test_non_canonical_signature_input_is_re_serialised(rsa_key: keys.SigningKey) -> None:
    # Given extra spaces the RFC 8941 grammar allows inside the inner list
    request = signed(post(), rsa_key)
    loose = request.headers["signature-input"].replace("(", "(  ").replace('" "', '"   "')
    # Then @signature-params is the canonical serialisation and it still verifies
    check(request.with_headers({"signature-input": loose}), rsa_key)


def test_the_first_label_present_in_both_fields_is_verified(rsa_key: keys.SigningKey) -> None:
    request = signed(post(), rsa_key)
    two = request.with_headers(
        {
            "signature-input": 'proxy=("@method");created=1;keyid="x", '
            + request.headers["signature-input"],
            "signature": request.headers["signature"],
        }
    )
    assert check(two, rsa_key).key_id == rsa_key.id


def test_extra_members_in_signature_are_ignored(rsa_key: keys.SigningKey) -> None:
    request = signed(post(), rsa_key)
    extra = request.headers["signature"] + ", proxy=:AAAA:"
    assert check(request.with_headers({"signature": extra}), rsa_key).key_id == rsa_key.id


# --- tampering ------------------------------------------------------------------


def test_one_byte_of_body_changed_is_a_digest_mismatch(key: keys.SigningKey) -> None:
    request = signed(post(), key)
    with pytest.raises(DigestMismatch):
        check(dataclasses.replace(request, body=request.body[:-1] + b"!"), key)


def test_changed_signed_header_is_invalid(key: keys.SigningKey) -> None:
    request = signed(post(), key)
    with pytest.raises(InvalidSignature):
        check(request.with_headers({"content-type": "application/activity+jsom"}), key)


@pytest.mark.parametrize("make", [post, get], ids=["POST", "GET"])
def test_changed_method_is_invalid(make: Callable[[], HttpRequest], key: keys.SigningKey) -> None:
    request = signed(make(), key)
    other = "PUST" if request.method == "POST" else "GXT"  # one byte changed
    with pytest.raises(InvalidSignature):
        check(dataclasses.replace(request, method=other), key)


@pytest.mark.parametrize("make", [post, get], ids=["POST", "GET"])
def test_changed_path_is_invalid(make: Callable[[], HttpRequest], key: keys.SigningKey) -> None:
    request = signed(make(), key)
    with pytest.raises(InvalidSignature):
        check(dataclasses.replace(request, url=request.url.replace("/bob", "/bod")), key)


def test_changed_created_is_invalid(key: keys.SigningKey) -> None:
    request = signed(post(), key)
    moved = request.headers["signature-input"].replace(str(CREATED), str(CREATED + 1))
    with pytest.raises(InvalidSignature):
        check(request.with_headers({"signature-input": moved}), key)


def test_covered_field_missing_from_the_request_is_invalid(rsa_key: keys.SigningKey) -> None:
    request = signed(post(), rsa_key)
    headers = {k: v for k, v in request.headers.items() if k != "content-type"}
    with pytest.raises(InvalidSignature, match="content-type"):
        check(HttpRequest(request.method, request.url, headers, request.body), rsa_key)


def test_header_value_with_a_line_break_is_invalid(rsa_key: keys.SigningKey) -> None:
    request = signed(post(), rsa_key)
    with pytest.raises(InvalidSignature, match="line break"):
        check(request.with_headers({"content-type": 'a\n"@method": GET'}), rsa_key)


# --- each failure has its own class --------------------------------------------


@pytest.mark.parametrize(
    ("signature_input", "signature"),
    [
        ('sig1=("@method");keyid="k"', None),  # Signature-Input alone
        ('sig1=("@method");keyid="k"', "sig2=:AAAA:"),  # no shared label
        ('sig1="@method";keyid="k"', "sig1=:AAAA:"),  # not an inner list
        ('sig1=("@method");keyid="k"', 'sig1="AAAA"'),  # not a byte sequence
        ('sig1=("@method")', "sig1=:AAAA:"),  # no keyid
        ('sig1=("@method");keyid=k', "sig1=:AAAA:"),  # keyid is a token, not a string
        ('sig1=("@Method");keyid="k"', "sig1=:AAAA:"),
        ('sig1=("@status");keyid="k"', "sig1=:AAAA:"),  # a response component
        ('sig1=("@query-param";name="x");keyid="k"', "sig1=:AAAA:"),  # not supported
        ('sig1=("date";bs);keyid="k"', "sig1=:AAAA:"),
        ('sig1=("date" "date");keyid="k"', "sig1=:AAAA:"),  # covered twice
        ('sig1=(date);keyid="k"', "sig1=:AAAA:"),
        ('sig1=("@method");keyid="k";created="1"', "sig1=:AAAA:"),
        ('sig1=("@method");keyid="k";created=999999999999999', "sig1=:AAAA:"),
        ('sig1=("@method");keyid="k"', "sig1=:A!AA:"),
        ('sig1=("@method" "@method");keyid="k"', "sig1=:AAAA:"),
        ('sig1=("@bogus");keyid="k"', "sig1=:AAAA:"),
    ],
)
def test_unreadable_signatures_are_malformed(signature_input: str, signature: str | None) -> None:
    headers = {"signature-input": signature_input}
    if signature is not None:
        headers["signature"] = signature
    with pytest.raises(SignatureMalformed):
        parse_signature(post().with_headers(headers))


@pytest.mark.parametrize("alg", ["rsa-pss-sha512", "hmac-sha256", "ecdsa-p256-sha256", "x"])
def test_algorithms_we_do_not_verify_are_unsupported(alg: str) -> None:
    headers = {
        "signature-input": f'sig1=("@method");keyid="k";alg="{alg}"',
        "signature": "sig1=:AAAA:",
    }
    with pytest.raises(UnsupportedAlgorithm):
        parse_signature(post().with_headers(headers))


def test_alg_that_does_not_fit_the_key_is_unsupported(
    rsa_key: keys.SigningKey, ed_key: keys.SigningKey
) -> None:
    request = signed(post(), rsa_key)  # alg="rsa-v1_5-sha256"
    with pytest.raises(UnsupportedAlgorithm):
        verify(request, parse_signature(request), ed_key.public(ACTOR), now=NOW)


def test_no_alg_lets_the_key_decide(ed_key: keys.SigningKey) -> None:
    request = hand_signed(get(), ed_key, '"@method" "@target-uri"', f';created={CREATED};keyid="k"')
    assert parse_signature(request).algorithm is None
    check(request, ed_key)


@pytest.mark.parametrize(
    ("components", "params", "missing"),
    [
        ('"@method" "@target-uri" "content-digest"', "", "created"),
        ('"@target-uri" "content-digest"', f";created={CREATED}", "@method"),
        ('"@method" "@authority" "content-digest"', f";created={CREATED}", "@target-uri"),
        ('"@method" "@target-uri"', f";created={CREATED}", "content-digest"),
    ],
)
def test_required_components_must_be_covered(
    components: str, params: str, missing: str, ed_key: keys.SigningKey
) -> None:
    request = post().with_headers({"content-digest": content_digest_header(BODY)})
    request = hand_signed(request, ed_key, components, f'{params};keyid="k"')
    with pytest.raises(ComponentNotCovered, match=missing):
        check(request, ed_key)


def test_covered_content_digest_must_be_present(rsa_key: keys.SigningKey) -> None:
    request = signed(post(), rsa_key)
    headers = {k: v for k, v in request.headers.items() if k != "content-digest"}
    with pytest.raises(DigestMismatch):
        check(HttpRequest(request.method, request.url, headers, request.body), rsa_key)


@pytest.mark.parametrize(
    "offset", [timedelta(hours=-1, seconds=-1), timedelta(hours=1, minutes=5, seconds=1)]
)
def test_created_outside_the_window_is_expired(offset: timedelta, rsa_key: keys.SigningKey) -> None:
    with pytest.raises(SignatureExpired):
        check(signed(post(), rsa_key), rsa_key, now=NOW + offset)


def test_a_remembered_component_list_still_needs_valid_parameters(rsa_key: keys.SigningKey) -> None:
    # Given a Signature-Input whose component list has been seen (and remembered)
    request = signed(post(), rsa_key)
    assert check(request, rsa_key).key_id == rsa_key.id
    # When the same list arrives with a created that is not an integer
    text = request.headers["signature-input"].replace(f"created={CREATED}", 'created="x"')
    # Then it is refused as before
    with pytest.raises(SignatureMalformed, match="created"):
        parse_signature(request.with_headers({"signature-input": text}))


def test_an_unsupported_derived_component_is_refused_every_time(rsa_key: keys.SigningKey) -> None:
    request = signed(post(), rsa_key)
    text = request.headers["signature-input"].replace('"@method"', '"@status"')
    for _ in range(2):  # a refusal is never remembered as a good component list
        with pytest.raises(SignatureMalformed, match="@status"):
            parse_signature(request.with_headers({"signature-input": text}))


def test_signature_input_without_alg_lets_the_key_decide(rsa_key: keys.SigningKey) -> None:
    request = signed(post(), rsa_key)
    text = request.headers["signature-input"].split(';alg="')[0]
    params = parse_signature(request.with_headers({"signature-input": text}))
    assert params.algorithm is None
    assert params.created == NOW
    assert params.signature_params == text.partition("=")[2]
