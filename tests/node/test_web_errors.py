"""node.web.errors: one table from error classes to statuses; only safe text leaves."""

from __future__ import annotations

import json
import logging

import pytest

from node.errors import AlreadyExists, ConfigError, DatabaseNotAtHead, InvalidInput, NotFound
from node.web.errors import error_response, status_for
from protocol.errors import (
    DigestMismatch,
    KeyOwnerMismatch,
    ParseError,
    SignatureMissing,
    TooLarge,
    UnsafeURL,
    WebFingerError,
)


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (ParseError("$.object", "missing"), 400),
        (WebFingerError("bad handle"), 400),
        (UnsafeURL("private address"), 400),
        (SignatureMissing("no signature"), 401),
        (DigestMismatch("digest differs"), 401),  # a SignatureError subclass
        (KeyOwnerMismatch("not yours"), 401),
        (TooLarge("body", 2_000_000, 1_000_000), 413),
        (InvalidInput("bad"), 400),
        (NotFound("nope"), 404),
        (AlreadyExists("taken"), 409),
        (DatabaseNotAtHead(None, "0001"), 500),
        (ConfigError(["broken"]), 500),
        (RuntimeError("bug"), 500),
    ],
)
def test_status_for(error: Exception, status: int) -> None:
    assert status_for(error) == status


def test_client_errors_carry_the_safe_message() -> None:
    response = error_response(ParseError("$.actor", "must be a string"))
    assert response.status_code == 400
    assert json.loads(bytes(response.body)) == {"error": "$.actor: must be a string"}


def test_long_messages_are_cut() -> None:
    response = error_response(InvalidInput("x" * 1000))
    message = json.loads(bytes(response.body))["error"]
    assert len(message) == 200
    assert message.endswith("…")


def test_server_errors_hide_detail_but_log_it(caplog: pytest.LogCaptureFixture) -> None:
    secret = "postgresql://admin:hunter2@db/sc unreachable"
    with caplog.at_level(logging.ERROR, logger="node.web.errors"):
        response = error_response(RuntimeError(secret))
    assert response.status_code == 500
    assert json.loads(bytes(response.body)) == {"error": "internal error"}
    assert secret in caplog.text
