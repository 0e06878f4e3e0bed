"""Safety: SSRF-proof URLs and DNS answers, size limits, strict JSON decoding."""

from __future__ import annotations

import ipaddress
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol.errors import ParseError, TooLarge, UnsafeURL
from protocol.safety import (
    MAX_ACTIVITY_BYTES,
    MAX_JSON_DEPTH,
    SafeURL,
    check_resolved,
    check_size,
    check_url,
    decode_json,
)

# -- check_url: refused -----------------------------------------------------------------------

# Every row: a URL an attacker could put in an actor, inbox or attachment field, and why we refuse.
SSRF_CASES = [
    # scheme, userinfo, shape
    ("http://coop.example/inbox", "scheme 'http' is not allowed"),
    ("ftp://coop.example/", "scheme 'ftp' is not allowed"),
    ("file:///etc/passwd", "scheme 'file' is not allowed"),
    ("gopher://coop.example/", "scheme 'gopher' is not allowed"),
    ("//coop.example/inbox", "scheme '(none)' is not allowed"),
    ("coop.example/inbox", "scheme '(none)' is not allowed"),
    ("https://user:pw@coop.example/", "userinfo"),
    ("https://coop.example@evil.example/", "userinfo"),
    ("https:///inbox", "no host"),
    ("https://coop.example:0/", "port 0"),
    ("https://coop.example:99999/", "does not parse"),
    ("https://coop.example:8o/", "does not parse"),
    ("https://[::1/", "does not parse"),
    ("https://coop .example/", "whitespace"),
    ("https://coop.example/\tinbox", "whitespace"),
    ("https://coop.example\n.evil.example/", "whitespace"),
    ("https://coop.example\\@evil.example/", "backslash"),
    ("https://coop.example\x00.evil/", "control characters"),
    # IPv4 ranges
    ("https://127.0.0.1/", "loopback"),
    ("https://127.255.0.9:8443/", "loopback"),
    ("https://10.1.2.3/", "private (RFC 1918)"),
    ("https://172.16.0.1/", "private (RFC 1918)"),
    ("https://172.31.255.255/", "private (RFC 1918)"),
    ("https://192.168.1.1/", "private (RFC 1918)"),
    ("https://169.254.169.254/latest/meta-data/", "link-local"),
    ("https://100.64.0.1/", "carrier-grade NAT"),
    ("https://100.127.255.254/", "carrier-grade NAT"),
    ("https://0.0.0.0/", "unspecified"),
    ("https://0.1.2.3/", "unspecified"),
    ("https://224.0.0.1/", "multicast"),
    ("https://239.255.255.250/", "multicast"),
    ("https://240.0.0.1/", "reserved"),
    ("https://255.255.255.255/", "reserved"),
    ("https://192.0.2.7/", "documentation"),
    ("https://198.18.0.1/", "benchmarking"),
    ("https://192.0.0.8/", "IETF protocol assignments"),
    # IPv4 in disguise: what resolvers (inet_aton) and browsers (WHATWG) read as 127.0.0.1
    ("https://2130706433/", "non-canonical IPv4"),
    ("https://0x7f000001/", "non-canonical IPv4"),
    ("https://0x7f.1/", "non-canonical IPv4"),
    ("https://0177.0.0.1/", "non-canonical IPv4"),
    ("https://127.1/", "non-canonical IPv4"),
    ("https://127.000.000.001/", "non-canonical IPv4"),
    ("https://1.2.3.4.5/", "non-canonical IPv4"),
    ("https://coop.123/", "non-canonical IPv4"),
    ("https://0x/", "non-canonical IPv4"),
    # trailing dots
    ("https://127.0.0.1./", "loopback"),
    ("https://localhost./", "local-only name"),
    ("https://2130706433./", "non-canonical IPv4"),
    ("https://coop.example../", "not a valid domain name"),
    # IPv6 forms
    ("https://[::1]/", "loopback"),
    ("https://[0:0:0:0:0:0:0:1]/", "loopback"),
    ("https://[::]/", "unspecified"),
    ("https://[fc00::1]/", "unique-local"),
    ("https://[fd12:3456::1]/", "unique-local"),
    ("https://[fe80::1]/", "link-local"),
    ("https://[fe80::1%25eth0]/", "zone identifiers"),
    ("https://[fec0::1]/", "site-local"),
    ("https://[ff02::1]/", "multicast"),
    ("https://[::ffff:127.0.0.1]/", "IPv4-mapped"),
    ("https://[::ffff:7f00:1]/", "IPv4-mapped"),
    ("https://[::ffff:8.8.8.8]/", "IPv4-mapped"),
    ("https://[::127.0.0.1]/", "outside global unicast"),
    ("https://[64:ff9b::7f00:1]/", "IPv6 form of 127.0.0.1"),
    ("https://[64:ff9b::a00:1]/", "IPv6 form of 10.0.0.1"),
    ("https://[64:ff9b:1::1]/", "local-use NAT64"),
    ("https://[2002:a9fe:a9fe::]/", "IPv6 form of 169.254.169.254"),
    ("https://[2001:db8::1]/", "documentation"),
    ("https://[2001:0:4136:e378::1]/", "Teredo"),
    ("https://[100::1]/", "outside global unicast"),
    ("https://[v1.fe]/", "not an IPv6 address"),
    # names that only mean something inside a network
    ("https://localhost/", "local-only name"),
    ("https://LOCALHOST:8001/", "local-only name"),
    ("https://api.localhost/", "local-only name"),
    ("https://printer.local/", "local-only name"),
    ("https://router.home.arpa/", "local-only name"),
    ("https://metadata.google.internal/", "local-only name"),
    ("https://intranet/", "single-label name"),
    ("https://metadata/", "single-label name"),
    # IDN tricks: checked after IDNA mapping
    ("https://ｌｏｃａｌｈｏｓｔ/", "local-only name"),  # noqa: RUF001 - the point of the test
    ("https://１２７.０.０.１/", "loopback"),  # noqa: RUF001
    ("https://127。0。0。1/", "loopback"),
    ("https://coop..example/", "not a valid domain name"),
    ("https://" + "a" * 64 + ".example/", "not a valid domain name"),
    ("https://exa%6dple.com/", "not a valid domain name"),
    ("https://exa*mple.com/", "not a valid domain name"),
]


@pytest.mark.parametrize(("url", "reason"), SSRF_CASES)
def test_check_url_refuses(url: str, reason: str) -> None:
    with pytest.raises(UnsafeURL) as raised:
        check_url(url)
    assert reason in str(raised.value)


# -- check_url: accepted ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "https://coop.example/users/alice#main-key",
            SafeURL("https://coop.example/users/alice", "https", "coop.example", 443, None),
        ),
        (
            "HTTPS://Coop.Example:8443/inbox?page=2",
            SafeURL("https://coop.example:8443/inbox?page=2", "https", "coop.example", 8443, None),
        ),
        (
            "https://coop.example",
            SafeURL("https://coop.example/", "https", "coop.example", 443, None),
        ),
        (
            "https://coop.example./x",
            SafeURL("https://coop.example/x", "https", "coop.example", 443, None),
        ),
        (
            "https://bücher.example/",
            SafeURL("https://xn--bcher-kva.example/", "https", "xn--bcher-kva.example", 443, None),
        ),
        (
            "https://8.8.8.8/",
            SafeURL("https://8.8.8.8/", "https", "8.8.8.8", 443, ipaddress.ip_address("8.8.8.8")),
        ),
        (
            "https://[2606:4700:0::1]:444/x",
            SafeURL(
                "https://[2606:4700::1]:444/x",
                "https",
                "2606:4700::1",
                444,
                ipaddress.ip_address("2606:4700::1"),
            ),
        ),
        (
            "https://[2002:808:808::1]/",  # 6to4 of a public address
            SafeURL(
                "https://[2002:808:808::1]/",
                "https",
                "2002:808:808::1",
                443,
                ipaddress.ip_address("2002:808:808::1"),
            ),
        ),
        (
            "https://_dmarc.coop.example/",
            SafeURL("https://_dmarc.coop.example/", "https", "_dmarc.coop.example", 443, None),
        ),
    ],
)
def test_check_url_accepts_and_canonicalises(url: str, expected: SafeURL) -> None:
    assert check_url(url) == expected


def test_check_url_allows_http_and_private_for_local_development() -> None:
    assert check_url("http://localhost:8001/inbox", allow_http=True, allow_private=True) == SafeURL(
        "http://localhost:8001/inbox", "http", "localhost", 8001, None
    )
    assert check_url("http://coop.example/", allow_http=True).port == 80
    assert check_url("https://[::1]:8443/", allow_private=True).ip == ipaddress.ip_address("::1")
    assert check_url("https://10.0.0.5/", allow_private=True).host == "10.0.0.5"
    assert check_url("https://[::ffff:10.0.0.5]/", allow_private=True).host == "::ffff:a00:5"
    assert check_url("https://intranet/", allow_private=True).host == "intranet"


def test_allow_private_never_allows_disguised_ipv4() -> None:
    # Given a host that only a resolver reads as an address
    with pytest.raises(UnsafeURL, match="non-canonical IPv4"):
        check_url("https://0x7f.1/", allow_private=True)


@settings(max_examples=200)
@given(st.sampled_from(["https://", "http://", "https://[", ""]), st.text())
def test_check_url_raises_only_unsafe_url(prefix: str, rest: str) -> None:
    try:
        safe = check_url(prefix + rest)
    except UnsafeURL:
        return
    # Whatever passes is already canonical: checking it again changes nothing.
    assert check_url(safe.url) == safe


# -- check_resolved ---------------------------------------------------------------------------


def test_check_resolved_returns_public_answers() -> None:
    answers = ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c", "::ffff:93.184.215.14"]
    assert check_resolved(answers) == tuple(ipaddress.ip_address(a) for a in answers)


def test_check_resolved_accepts_dns64_answers_for_public_hosts() -> None:
    assert check_resolved(["64:ff9b::5db8:d70e"]) == (ipaddress.ip_address("64:ff9b::5db8:d70e"),)


@pytest.mark.parametrize(
    ("answers", "reason"),
    [
        ([], "resolves to no address"),
        (["127.0.0.1"], "127.0.0.1, which is loopback"),
        (["93.184.215.14", "10.0.0.1"], "10.0.0.1, which is private"),
        (["169.254.169.254"], "link-local"),
        (["::1"], "loopback"),
        (["::ffff:192.168.0.1"], "IPv6 form of 192.168.0.1"),
        (["64:ff9b::7f00:1"], "IPv6 form of 127.0.0.1"),
        (["fe80::1%eth0"], "link-local"),
        (["100.64.0.7"], "carrier-grade NAT"),
        (["not-an-ip"], "'not-an-ip' is not an IP address"),
        (["0x7f.1"], "is not an IP address"),
    ],
)
def test_check_resolved_refuses_rebinding_to_private_space(answers: list[str], reason: str) -> None:
    with pytest.raises(UnsafeURL) as raised:
        check_resolved(answers)
    assert reason in str(raised.value)


def test_check_resolved_allow_private() -> None:
    assert check_resolved(["127.0.0.1"], allow_private=True) == (ipaddress.ip_address("127.0.0.1"),)
    with pytest.raises(UnsafeURL, match="no address"):
        check_resolved([], allow_private=True)


# -- sizes ------------------------------------------------------------------------------------


def test_max_activity_bytes_is_mastodons_max_json_size() -> None:
    assert MAX_ACTIVITY_BYTES == 1024 * 1024


def test_check_size() -> None:
    check_size("inbox body", 10, 10)
    with pytest.raises(TooLarge, match="inbox body is 11 bytes, over the limit of 10") as raised:
        check_size("inbox body", 11, 10)
    assert (raised.value.size, raised.value.limit) == (11, 10)


# -- decode_json ------------------------------------------------------------------------------


def test_decode_json_reads_an_activity() -> None:
    body = json.dumps({"type": "Follow", "to": ["a", {"x": [1, 2.5, None, True]}]}).encode()
    assert decode_json(body) == {"type": "Follow", "to": ["a", {"x": [1, 2.5, None, True]}]}


def test_decode_json_allows_exactly_the_limit() -> None:
    body = b'{"a":"' + b"x" * 10 + b'"}'
    assert decode_json(body, limit=len(body)) == {"a": "x" * 10}
    with pytest.raises(TooLarge, match="JSON body is 18 bytes, over the limit of 17"):
        decode_json(body, limit=len(body) - 1)


def test_decode_json_default_limit_is_one_megabyte() -> None:
    body = b'{"a":"' + b"x" * MAX_ACTIVITY_BYTES + b'"}'
    with pytest.raises(TooLarge, match="over the limit of 1048576"):
        decode_json(body)


def test_decode_json_depth_limit_counts_the_top_object() -> None:
    # Given the top object plus 63 nested arrays: depth 64 exactly
    body = b'{"a":' + b"[" * (MAX_JSON_DEPTH - 1) + b"]" * (MAX_JSON_DEPTH - 1) + b"}"
    value = decode_json(body)["a"]
    levels = 0
    while value is not None:
        levels += 1
        value = value[0] if value else None
    assert levels == MAX_JSON_DEPTH - 1
    # When one more level is added, Then it is refused
    deeper = b'{"a":' + b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH + b"}"
    with pytest.raises(ParseError, match=r"\$: nesting deeper than 64"):
        decode_json(deeper)


def test_decode_json_ignores_brackets_inside_strings() -> None:
    text = "[" * 100 + '\\"{' * 100
    assert decode_json(json.dumps({"a": text}).encode()) == {"a": text}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", r"\$: not JSON"),
        (b"   ", r"\$: not JSON"),
        (b'{"a":1', r"\$: not JSON"),
        (b'{"a":1} x', r"\$: not JSON"),
        (b"{'a':1}", r"\$: not JSON"),
        (b'{"a":01}', r"\$: not JSON"),
        (b'{"a":1}\x00', r"\$: not JSON"),
        (b"\xff\xfe{}", r"\$: body is not valid UTF-8 \(byte 0\)"),
        (b'{"a":"\xc3\x28"}', r"\$: body is not valid UTF-8 \(byte 6\)"),
        (b'{"a":"\xed\xa0\x80"}', r"\$: body is not valid UTF-8"),  # UTF-8-encoded surrogate
        (b"\xef\xbb\xbf{}", r"\$: body starts with a byte order mark"),
        (b"[]", r"\$: expected a JSON object, got list"),
        (b'"id"', r"\$: expected a JSON object, got str"),
        (b"null", r"\$: expected a JSON object, got NoneType"),
        (b"42", r"\$: expected a JSON object, got int"),
        (b'{"a":NaN}', r"\$: NaN is not valid JSON"),
        (b'{"a":Infinity}', r"\$: Infinity is not valid JSON"),
        (b'{"a":[-Infinity]}', r"\$: -Infinity is not valid JSON"),
        (b'{"a":1e400}', r"\$: number 1e400 overflows"),
        (b'{"a":-1e999}', r"\$: number -1e999 overflows"),
        (b'{"a":' + b"1" * 5000 + b"}", r"\$: a number has too many digits"),
        (b'{"id":"a","id":"b"}', r"\$: duplicate key 'id' in an object"),
        (b'{"o":{"type":"Note","type":"Page"}}', r"duplicate key 'type'"),
        (b'{"a":"\\ud800"}', r"\$\.a: string contains a lone surrogate"),
        (b'{"a":[{"b":"x\\udfff"}]}', r"\$\.a\[0\]\.b: string contains a lone surrogate"),
        (b'{"a":{"\\udc00":1}}', r"\$\.a: string contains a lone surrogate"),
        (b"[" * 100_000, r"\$: nesting deeper than 64"),
        (b'{"a":' * 70 + b"1" + b"}" * 70, r"\$: nesting deeper than 64"),
    ],
)
def test_decode_json_refuses(body: bytes, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        decode_json(body)


def test_decode_json_keeps_paired_surrogates() -> None:
    assert decode_json(b'{"a":"\\ud83d\\ude00"}') == {"a": "\U0001f600"}


def test_decode_json_does_not_mutate_or_share_state() -> None:
    body = b'{"a":[1]}'
    first = decode_json(body)
    first["a"].append(2)
    assert decode_json(body) == {"a": [1]}


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=200)
@given(st.binary(max_size=300))
def test_decode_json_on_arbitrary_bytes_raises_only_parse_or_size_errors(body: bytes) -> None:
    try:
        value = decode_json(body, limit=200)
    except (ParseError, TooLarge):
        return
    assert isinstance(value, dict)


@settings(max_examples=200)
@given(JSON_VALUES, st.integers(min_value=0, max_value=400), st.binary(max_size=3))
def test_decode_json_on_damaged_json_raises_only_parse_errors(
    value: object, at: int, junk: bytes
) -> None:
    # Given a JSON document (possibly with NaN) with a few bytes spliced in somewhere
    text = json.dumps({"v": value}).encode()
    body = text[:at] + junk + text[at:]
    # Then it decodes to an object or is refused with a ParseError
    try:
        result = decode_json(body)
    except ParseError:
        return
    assert isinstance(result, dict)
