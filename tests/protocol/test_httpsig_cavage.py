"""draft-cavage signatures: sign, parse, verify, and every way verification fails."""

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
    SignatureMissing,
    UnsupportedAlgorithm,
)
from protocol.http import HttpRequest
from protocol.httpsig import (
    Scheme,
    SignatureParams,
    VerifiedSignature,
    digest_header,
    parse_signature,
    sign_cavage,
    verify,
)

if TYPE_CHECKING:
    from collections.abc import Callable

ACTOR = "https://coop.example/users/ana"
INBOX = "https://care.example/users/bob/inbox"
NOW = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)
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


def post(body: bytes = BODY, url: str = INBOX) -> HttpRequest:
    headers = {"Host": "care.example", "Content-Type": "application/activity+json"}
    return HttpRequest.build("POST", url, headers, body)


def get(url: str = "https://care.example/users/bob") -> HttpRequest:
    return HttpRequest.build("GET", url, {"Host": "care.example", "Accept": "application/json"})


def signed(
    request: HttpRequest, key: keys.SigningKey, covered: list[str] | None = None
) -> HttpRequest:
    return request.with_headers(sign_cavage(request, key, now=NOW, covered=covered))


def check(request: HttpRequest, key: keys.SigningKey, now: datetime = NOW) -> VerifiedSignature:
    return verify(request, parse_signature(request), key.public(ACTOR), now=now)


def with_header(request: HttpRequest, name: str, value: str) -> HttpRequest:
    return request.with_headers({name: value})


def with_signature_param(request: HttpRequest, name: str, value: str) -> HttpRequest:
    """Rewrite one name="value" pair of the Signature header."""
    parts = request.headers["signature"].split('",')
    rewritten = [f'{name}="{value}' if part.startswith(f'{name}="') else part for part in parts]
    return with_header(request, "signature", '",'.join(rewritten))


# --- round trips ---------------------------------------------------------------


@pytest.mark.parametrize("make", [post, get], ids=["POST", "GET"])
def test_sign_then_verify_round_trip(make: Callable[[], HttpRequest], key: keys.SigningKey) -> None:
    # Given a request signed the way Mastodon signs
    request = signed(make(), key)
    # When the receiving node parses it, looks up the key, and verifies
    params = parse_signature(request)
    verified = verify(request, params, key.public(ACTOR), now=NOW)
    # Then it knows who signed and when
    assert params.scheme is Scheme.CAVAGE
    assert params.key_id == key.id
    assert verified == VerifiedSignature(key.id, ACTOR, Scheme.CAVAGE, NOW)


def test_sign_adds_mastodons_headers_for_a_post(rsa_key: keys.SigningKey) -> None:
    added = sign_cavage(post(), rsa_key, now=NOW)

    assert set(added) == {"date", "digest", "signature"}  # Host is already there
    assert added["date"] == "Sat, 01 Mar 2025 12:00:00 GMT"
    assert added["digest"] == digest_header(BODY)
    signature = added["signature"]
    assert signature.startswith(f'keyId="{rsa_key.id}",algorithm="rsa-sha256",')
    assert 'headers="(request-target) host date digest content-type"' in signature


def test_sign_get_covers_target_host_and_date_and_adds_a_missing_host(
    ed_key: keys.SigningKey,
) -> None:
    request = HttpRequest.build("GET", "https://care.example:8443/users/bob")

    added = sign_cavage(request, ed_key, now=NOW)

    assert added["host"] == "care.example:8443"
    assert "digest" not in added
    assert 'algorithm="hs2019"' in added["signature"]  # Ed25519 is labelled hs2019
    assert 'headers="(request-target) host date"' in added["signature"]
    check(request.with_headers(added), ed_key)


def test_parse_reports_what_the_signature_covers(rsa_key: keys.SigningKey) -> None:
    params = parse_signature(signed(post(), rsa_key))

    assert params.algorithm == "rsa-sha256"
    assert params.covered == ("(request-target)", "host", "date", "digest", "content-type")
    assert params.created == NOW
    assert params.expires is None
    assert len(params.signature) == 256


def test_authorization_signature_form_is_accepted(rsa_key: keys.SigningKey) -> None:
    request = signed(post(), rsa_key)
    value = request.headers["signature"]
    headers = {k: v for k, v in request.headers.items() if k != "signature"}
    moved = HttpRequest(
        request.method, request.url, {**headers, "authorization": f"Signature {value}"}, BODY
    )

    assert check(moved, rsa_key).key_id == rsa_key.id


def test_created_pseudo_header_with_hs2019(key: keys.SigningKey) -> None:
    # Given a signature over (created) instead of Date (draft-cavage-12 §2.3)
    covered = ["(request-target)", "host", "(created)", "digest"]
    request = signed(post(), key, covered=covered)
    # Then the label is hs2019 and the created parameter is sent unquoted
    assert 'algorithm="hs2019"' in request.headers["signature"]
    assert f",created={int(NOW.timestamp())}," in request.headers["signature"]
    params = parse_signature(request)
    assert params.created == NOW
    assert check(request, key).created == NOW


def test_expires_pseudo_header_extends_the_window(ed_key: keys.SigningKey) -> None:
    # Given (created) and (expires) signed by hand, expiring after 2 hours
    created, expires = int(NOW.timestamp()), int(NOW.timestamp()) + 7200
    request = post()
    text = (
        f"(request-target): post /users/bob/inbox\n(created): {created}\n"
        f"(expires): {expires}.5\nhost: care.example\ndigest: {digest_header(BODY)}"
    )
    signature = base64.b64encode(ed_key.sign(text.encode())).decode()
    value = (
        f'keyId="{ed_key.id}",algorithm="hs2019",created={created},expires={expires}.5,'
        f'headers="(request-target) (created) (expires) host digest",signature="{signature}"'
    )
    request = request.with_headers({"signature": value, "digest": digest_header(BODY)})
    # Then it verifies 2h + 1h skew later, not after
    params = parse_signature(request)
    assert params.expires == NOW + timedelta(hours=2, milliseconds=500)
    check(request, ed_key, now=NOW + timedelta(hours=3))
    with pytest.raises(SignatureExpired):
        check(request, ed_key, now=NOW + timedelta(hours=3, seconds=1))


def test_signature_parameters_tolerate_spaces_and_other_orders(rsa_key: keys.SigningKey) -> None:
    request = signed(post(), rsa_key)
    params = parse_signature(request)
    encoded = base64.b64encode(params.signature).decode()
    value = (
        f'signature = "{encoded}", headers="(request-target) host date digest content-type" ,'
        f' keyId="{rsa_key.id}" , algorithm=rsa-sha256'
    )
    check(with_header(request, "signature", value), rsa_key)


def test_query_string_is_tried_with_then_without(rsa_key: keys.SigningKey) -> None:
    # Given a sender that signs the path without the query (GoToSocial's knock)
    url = "https://care.example/users/bob/outbox?page=true"
    request = get(url)
    plain = get("https://care.example/users/bob/outbox")
    headers = sign_cavage(plain, rsa_key, now=NOW)
    # Then the request with the query still verifies
    check(request.with_headers(headers), rsa_key)
    # And a signature over the query verifies too
    check(signed(request, rsa_key), rsa_key)


def test_missing_host_header_falls_back_to_the_url_authority(rsa_key: keys.SigningKey) -> None:
    request = signed(get(), rsa_key)
    headers = {k: v for k, v in request.headers.items() if k != "host"}
    check(HttpRequest(request.method, request.url, headers), rsa_key)


# --- tampering: one byte changed, the right error ------------------------------


def test_one_byte_of_body_changed_is_a_digest_mismatch(key: keys.SigningKey) -> None:
    request = signed(post(), key)
    tampered = dataclasses.replace(request, body=request.body[:-1] + b"!")
    with pytest.raises(DigestMismatch):
        check(tampered, key)


@pytest.mark.parametrize("make", [post, get], ids=["POST", "GET"])
def test_one_byte_of_a_signed_header_changed_is_invalid(
    make: Callable[[], HttpRequest], key: keys.SigningKey
) -> None:
    request = signed(make(), key)
    with pytest.raises(InvalidSignature):
        check(with_header(request, "host", "care.exampla"), key)


def test_changed_signed_digest_header_is_invalid_even_if_it_matches(key: keys.SigningKey) -> None:
    # Given a body swapped along with a freshly computed Digest
    request = signed(post(), key)
    swapped = dataclasses.replace(request, body=b'{"type":"Delete"}')
    swapped = with_header(swapped, "digest", digest_header(swapped.body))
    # Then the digest matches but the signature does not
    with pytest.raises(InvalidSignature):
        check(swapped, key)


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


def test_flipped_signature_bit_is_invalid(key: keys.SigningKey) -> None:
    request = signed(post(), key)
    params = parse_signature(request)
    flipped = bytes([params.signature[0] ^ 1]) + params.signature[1:]
    with pytest.raises(InvalidSignature):
        verify(request, dataclasses.replace(params, signature=flipped), key.public(ACTOR), now=NOW)


def test_another_key_is_invalid(rsa_key: keys.SigningKey) -> None:
    request = signed(post(), rsa_key)
    stranger = keys.generate_rsa(f"{ACTOR}#main-key").public(ACTOR)
    with pytest.raises(InvalidSignature):
        verify(request, parse_signature(request), stranger, now=NOW)


def test_signed_header_absent_from_the_request_is_invalid(rsa_key: keys.SigningKey) -> None:
    request = signed(post(), rsa_key)
    headers = {k: v for k, v in request.headers.items() if k != "content-type"}
    with pytest.raises(InvalidSignature, match="content-type"):
        check(HttpRequest(request.method, request.url, headers, request.body), rsa_key)


# --- each failure has its own class --------------------------------------------


def test_no_signature_at_all_is_missing() -> None:
    with pytest.raises(SignatureMissing):
        parse_signature(post())
    with pytest.raises(SignatureMissing):
        parse_signature(with_header(post(), "authorization", "Bearer abc"))


@pytest.mark.parametrize(
    "value",
    [
        "",
        "garbage",
        'keyId="k"',  # no signature
        'signature="AAAA"',  # no keyId
        'keyId="k",signature="not base64!"',
        'keyId="k",signature="AAAA",keyId="j"',
        'keyId="k",signature="AAAA",',
        'keyId="k" signature="AAAA"',
        'keyId="k\x01",signature="AAAA"',
        'keyId="k",signature="AAAA",headers="(request-target) (foo)"',
        'keyId="k",signature="AAAA",algorithm="rsa-sha256",headers="(created)",created=1',
        'keyId="k",signature="AAAA",headers="(created)"',  # no created parameter
        'keyId="k",signature="AAAA",headers="(created)",created=12x',
        'keyId="k",signature="AAAA",headers="(created)",created=999999999999999',
        'keyId="k",signature="AAAA",headers="date"',  # Date is signed but unreadable
    ],
)
def test_unreadable_signatures_are_malformed(value: str) -> None:
    request = post().with_headers({"signature": value, "date": "not a date"})
    with pytest.raises(SignatureMalformed):
        parse_signature(request)


@pytest.mark.parametrize("algorithm", ["hmac-sha256", "rsa-sha512", "ecdsa-sha256", "ed25519"])
def test_algorithms_we_do_not_verify_are_unsupported(algorithm: str) -> None:
    value = f'keyId="k",algorithm="{algorithm}",headers="date",signature="AAAA"'
    with pytest.raises(UnsupportedAlgorithm):
        parse_signature(post().with_headers({"signature": value}))


def test_rsa_sha256_with_an_ed25519_key_is_unsupported(ed_key: keys.SigningKey) -> None:
    # Given an Ed25519 signature labelled rsa-sha256
    request = with_signature_param(signed(post(), ed_key), "algorithm", "rsa-sha256")
    with pytest.raises(UnsupportedAlgorithm):
        check(request, ed_key)
    # A hand-made params object is checked too.
    params = dataclasses.replace(parse_signature(request), algorithm="rsa-pss")
    with pytest.raises(UnsupportedAlgorithm):
        verify(request, params, ed_key.public(ACTOR), now=NOW)


@pytest.mark.parametrize(
    ("covered", "missing"),
    [
        (["host", "date", "digest"], "(request-target)"),
        (["(request-target)", "date", "digest"], "host"),
        (["(request-target)", "host", "digest"], "date"),
        (["(request-target)", "host", "date", "content-type"], "digest"),
    ],
)
def test_required_components_must_be_covered(
    covered: list[str], missing: str, rsa_key: keys.SigningKey
) -> None:
    request = signed(post(), rsa_key, covered=covered)
    with pytest.raises(ComponentNotCovered, match=rf"cover .*{missing}"):
        check(request, rsa_key)


def test_get_needs_no_digest(rsa_key: keys.SigningKey) -> None:
    check(signed(get(), rsa_key, covered=["(request-target)", "host", "date"]), rsa_key)


def test_post_with_empty_body_still_needs_a_digest(rsa_key: keys.SigningKey) -> None:
    # Mastodon: every POST must sign its digest.
    request = signed(post(b""), rsa_key, covered=["(request-target)", "host", "date"])
    with pytest.raises(ComponentNotCovered):
        check(request, rsa_key)


def test_signed_digest_absent_from_the_request_is_a_mismatch(rsa_key: keys.SigningKey) -> None:
    request = signed(post(), rsa_key)
    headers = {k: v for k, v in request.headers.items() if k != "digest"}
    with pytest.raises(DigestMismatch):
        check(HttpRequest(request.method, request.url, headers, request.body), rsa_key)


@pytest.mark.parametrize(
    "offset", [timedelta(hours=1, seconds=1), timedelta(hours=-1, minutes=-5, seconds=-1)]
)
def test_dates_outside_the_window_are_expired(offset: timedelta, rsa_key: keys.SigningKey) -> None:
    request = signed(post(), rsa_key)
    with pytest.raises(SignatureExpired):
        check(request, rsa_key, now=NOW - offset)


def test_verify_needs_an_aware_now(rsa_key: keys.SigningKey) -> None:
    request = signed(post(), rsa_key)
    with pytest.raises(ValueError, match="aware"):
        check(request, rsa_key, now=datetime(2025, 3, 1, 12))  # noqa: DTZ001 - the point of the test


def test_sign_refuses_headers_it_cannot_sign(rsa_key: keys.SigningKey) -> None:
    with pytest.raises(ValueError, match="x-missing"):
        sign_cavage(post(), rsa_key, now=NOW, covered=["(request-target)", "x-missing"])
    quoted = keys.SigningKey('key"id', rsa_key.key)
    with pytest.raises(ValueError, match="quoted"):
        sign_cavage(post(), quoted, now=NOW)


def test_params_are_frozen(rsa_key: keys.SigningKey) -> None:
    params: SignatureParams = parse_signature(signed(post(), rsa_key))
    with pytest.raises(dataclasses.FrozenInstanceError):
        params.key_id = "other"  # type: ignore[misc]


def test_fast_path_values_equal_the_dataclass_constructors(rsa_key: keys.SigningKey) -> None:
    # Given a signature parsed and verified on the hot path (slot-filled drafts)
    request = signed(post(), rsa_key)
    params = parse_signature(request)
    verified = check(request, rsa_key)
    # Then they are true instances of the frozen dataclasses, equal to ones built normally
    rebuilt = SignatureParams(
        **{f.name: getattr(params, f.name) for f in dataclasses.fields(params)}
    )
    assert type(params) is SignatureParams
    assert params == rebuilt
    assert hash(params) == hash(rebuilt)
    assert type(verified) is VerifiedSignature
    with pytest.raises(dataclasses.FrozenInstanceError):
        verified.signer = "other"  # type: ignore[misc]


def test_mastodon_shape_and_general_shape_parse_alike(rsa_key: keys.SigningKey) -> None:
    # Given the common keyId,algorithm,headers,signature order (fast path)
    request = signed(post(), rsa_key)
    fast = parse_signature(request)
    # When the same parameters come reordered, with spaces (strict general parser)
    fields = dict(part.split("=", 1) for part in request.headers["signature"].split(","))
    reordered = ", ".join(f"{name}={fields[name]}" for name in reversed(list(fields)))
    general = parse_signature(with_header(request, "signature", reordered))
    # Then both read the same signature
    assert general == fast
    assert verify(request, general, rsa_key.public(ACTOR), now=NOW).key_id == rsa_key.id


@pytest.mark.parametrize("key_id", ["", "caf\u00e9#key", "tab\there"])
def test_fast_path_still_refuses_a_bad_key_id(rsa_key: keys.SigningKey, key_id: str) -> None:
    value = signed(post(), rsa_key).headers["signature"]
    bad = f'keyId="{key_id}"' + value[value.index(",algorithm=") :]
    with pytest.raises(SignatureMalformed, match="keyId"):
        parse_signature(with_header(post(), "signature", bad))
