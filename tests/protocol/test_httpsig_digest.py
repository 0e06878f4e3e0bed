"""Body digests: Digest (RFC 3230) and Content-Digest (RFC 9530), and HTTP dates."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from protocol.errors import DigestMismatch, SignatureMalformed
from protocol.httpsig import (
    check_content_digest,
    check_digest,
    content_digest_header,
    digest_header,
    format_http_date,
    httpdate,
    parse_http_date,
)

FIXTURES = Path(__file__).parent.parent / "fixtures" / "rfc9421"
BODY = b'{"hello": "world"}'
SHA256 = base64.b64encode(hashlib.sha256(BODY).digest()).decode()
SHA512 = base64.b64encode(hashlib.sha512(BODY).digest()).decode()


def test_digest_header_is_what_mastodon_sends() -> None:
    assert digest_header(BODY) == f"SHA-256={SHA256}"


@pytest.mark.parametrize(
    "value",
    [
        f"SHA-256={SHA256}",
        f"sha-256={SHA256}",  # algorithm names are case-insensitive (RFC 3230 §4.1.1)
        f"SHA-512={SHA512}, SHA-256={SHA256}",  # a list; SHA-256 is the one we check
        f"SHA-256={SHA256},unixsum=1234",
    ],
)
def test_digest_accepts_every_spelling_that_carries_a_matching_sha256(value: str) -> None:
    check_digest(value, BODY)


@pytest.mark.parametrize(
    "value",
    [
        None,  # a body needs a digest
        f"SHA-256={SHA256[:-2]}AA",
        f"SHA-512={SHA512}",  # Mastodon accepts SHA-256 only
        f"SHA-256={SHA256}, SHA-256=AAAA",  # every SHA-256 entry must match
        "SHA-256",
        f"MD5=x, SHA-256={SHA256.lower()}",
    ],
)
def test_digest_refuses_missing_wrong_or_unusable_values(value: str | None) -> None:
    with pytest.raises(DigestMismatch):
        check_digest(value, BODY)


def test_content_digest_header_is_an_rfc_9530_byte_sequence() -> None:
    assert content_digest_header(BODY) == f"sha-256=:{SHA256}:"
    check_content_digest(content_digest_header(BODY), BODY)


def test_content_digest_vectors_from_the_rfcs() -> None:
    # Given the published sha-512 digests (RFC 9421 B.2, RFC 9530 §2).
    cases = json.loads((FIXTURES / "content-digest.json").read_text())["cases"]
    for case in cases:
        body = case["body"].encode()
        # Then each verifies against its body and fails against a one-byte change.
        check_content_digest(case["content_digest"], body)
        with pytest.raises(DigestMismatch):
            check_content_digest(case["content_digest"], body[:-1] + b"!")


@pytest.mark.parametrize(
    "value",
    [
        f"sha-512=:{SHA512}:, sha-256=:{SHA256}:",
        f"sha-256=:{SHA256}:, unknown-alg=:AAAA:",  # unknown algorithms are ignored
        f"sha-256=:{SHA256.rstrip('=')}:",  # sf-binary without padding
        f"sha-256=:{SHA256}:;p=1",
    ],
)
def test_content_digest_general_forms(value: str) -> None:
    check_content_digest(value, BODY)


@pytest.mark.parametrize(
    "value",
    [
        None,
        f"sha-256=:{SHA512}:",
        f"sha-512=:{SHA512}:, sha-256=:{SHA512[:44]}:",  # every known member must match
        "unknown-alg=:AAAA:",  # nothing we can check
        f"sha-256={SHA256}",  # the RFC 3230 spelling is not a byte sequence
        "sha-256=:%%%:",
        f'sha-256="{SHA256}"',
    ],
)
def test_content_digest_refuses_missing_wrong_or_malformed_values(value: str | None) -> None:
    with pytest.raises(DigestMismatch):
        check_content_digest(value, BODY)


def test_http_date_round_trip_in_imf_fixdate() -> None:
    moment = datetime(2021, 4, 20, 2, 7, 55, tzinfo=UTC)
    assert format_http_date(moment) == "Tue, 20 Apr 2021 02:07:55 GMT"
    assert parse_http_date("Tue, 20 Apr 2021 02:07:55 GMT") == moment
    # Another offset is converted to GMT.
    paris = moment.astimezone(timezone(timedelta(hours=2)))
    assert format_http_date(paris) == "Tue, 20 Apr 2021 02:07:55 GMT"


def test_http_date_accepts_the_obsolete_forms() -> None:
    # RFC 9110 §5.6.7: recipients must accept RFC 850 and asctime dates.
    expected = datetime(1994, 11, 6, 8, 49, 37, tzinfo=UTC)
    assert parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT") == expected
    assert parse_http_date("Sun Nov  6 08:49:37 1994") == expected


@pytest.mark.parametrize(
    "text",
    [
        "Tue, 31 Apr 2021 02:07:55 GMT",  # no 31 April
        "Tue, 20 Apr 2021 25:07:55 GMT",
        "Tue, 2O Apr 2021 02:07:55 GMT",
        "Tue, 20 Apr 2021 02:07:55 +0200",
        "yesterday",
        "",
        "Tue, 20 Apr 2021 02:07:55 GMT\u0000",
    ],
)
def test_http_date_refuses_invalid_dates(text: str) -> None:
    with pytest.raises(SignatureMalformed):
        parse_http_date(text)


def test_format_http_date_needs_an_aware_datetime() -> None:
    with pytest.raises(ValueError, match="aware"):
        format_http_date(datetime(2021, 4, 20))  # noqa: DTZ001 - the point of the test


def test_http_date_memo_returns_equal_values_and_stays_bounded() -> None:
    # Given more distinct dates than the memo holds
    start = datetime(2025, 3, 1, tzinfo=UTC)
    moments = [start + timedelta(seconds=n) for n in range(httpdate._SEEN_LIMIT + 10)]
    # When each is parsed twice
    for moment in moments:
        text = format_http_date(moment)
        assert parse_http_date(text) == moment
        assert parse_http_date(text) == moment
    # Then the memo never grows past its limit
    assert len(httpdate._SEEN) <= httpdate._SEEN_LIMIT
