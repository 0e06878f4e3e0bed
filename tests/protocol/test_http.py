"""HttpRequest: the plain request description signatures work on."""

from __future__ import annotations

import pytest

from protocol.http import HttpRequest


def test_build_lowercases_and_joins_repeated_headers() -> None:
    request = HttpRequest.build(
        "post",
        "https://a.example/inbox",
        [("Accept", "a"), ("ACCEPT", " b "), ("Host", "a.example")],
    )
    assert request.method == "POST"
    assert request.headers == {"accept": "a, b", "host": "a.example"}


@pytest.mark.parametrize(
    ("url", "target", "authority"),
    [
        ("https://a.example/inbox", "/inbox", "a.example"),
        ("https://A.Example:443/x?page=2", "/x?page=2", "a.example"),
        ("http://127.0.0.1:8001/users/ana", "/users/ana", "127.0.0.1:8001"),
        ("http://[::1]:80/", "/", "[::1]"),
        ("https://a.example", "/", "a.example"),
    ],
)
def test_target_and_authority(url: str, target: str, authority: str) -> None:
    request = HttpRequest("GET", url)
    assert request.target == target
    assert request.authority == authority


def test_with_headers_returns_a_copy() -> None:
    original = HttpRequest.build("GET", "https://a.example/", {"Date": "x"})
    changed = original.with_headers({"Signature": "s"})
    assert original.headers == {"date": "x"}
    assert changed.headers == {"date": "x", "signature": "s"}
