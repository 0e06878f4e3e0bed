"""Untrusted header text: parse_signature raises SignatureError subclasses, nothing else."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime

from hypothesis import example, given, settings
from hypothesis import strategies as st

from protocol import keys
from protocol.errors import SignatureError
from protocol.http import HttpRequest
from protocol.httpsig import parse_signature, sign_cavage, sign_rfc9421, verify

NOW = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)
KEY = keys.generate_ed25519("https://coop.example/users/ana#ed25519-key")

# Fragments of real headers, so generated text reaches deep into the parsers.
FRAGMENTS = [
    'keyId="k"',
    'algorithm="hs2019"',
    'algorithm="rsa-sha256"',
    'headers="(request-target) host date digest"',
    'headers="(created) (expires)"',
    'signature="AAAA"',
    "created=1618884473",
    "expires=1618884473.5",
    "sig1=",
    '("@method" "@target-uri" "content-digest")',
    '("date";sf "x";key="a")',
    ";created=1618884473",
    ';keyid="k"',
    ';alg="ed25519"',
    ";expires=-1",
    ":AAAA:",
    ", ",
    ",",
    '"',
    "\\",
    "(",
    ")",
    ";",
    "=",
    "?1",
    " ",
    "\t",
    "é",
    "\x00",
]
fragments = st.lists(st.sampled_from(FRAGMENTS), max_size=10).map("".join)
header_text = st.one_of(st.text(max_size=60), fragments)


@settings(max_examples=200)
@given(
    st.dictionaries(
        st.sampled_from(["signature", "signature-input", "authorization", "date"]),
        header_text,
    )
)
@example({"signature": 'keyId="k",signature="AAAA",headers="(created)",created=' + "9" * 5000})
@example({"signature-input": "sig1=()", "signature": ""})
@example({"authorization": "Signature "})
def test_parse_signature_raises_only_signature_errors(headers: dict[str, str]) -> None:
    request = HttpRequest("POST", "https://care.example/inbox", headers, b"{}")
    with contextlib.suppress(SignatureError):
        parse_signature(request)


@settings(max_examples=100)
@given(st.sampled_from(["cavage", "rfc9421"]), st.data())
def test_mangled_signed_requests_fail_only_with_signature_errors(
    scheme: str, data: st.DataObject
) -> None:
    # Given a valid signed request with one header value replaced by fuzz
    request = HttpRequest.build(
        "POST", "https://care.example/inbox", {"Host": "care.example"}, b"{}"
    )
    signer = sign_cavage if scheme == "cavage" else sign_rfc9421
    headers = dict(request.with_headers(signer(request, KEY, now=NOW)).headers)
    name = data.draw(st.sampled_from(sorted(headers)))
    headers[name] = data.draw(header_text)
    mangled = HttpRequest(request.method, request.url, headers, request.body)
    # Then parsing and verifying either succeed or raise a SignatureError
    with contextlib.suppress(SignatureError):
        verify(
            mangled, parse_signature(mangled), KEY.public("https://coop.example/users/ana"), now=NOW
        )
