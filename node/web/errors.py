"""The one place that turns errors into HTTP responses.

Each error class maps to a status in :data:`STATUS` (the nearest class in the
error's MRO wins). 4xx answers carry ``str(error)``, which both error trees
promise is safe to show the party that caused it (capped in length); 5xx
answers say only "internal error". The full detail goes to the log, never to
the client (GoToSocial's ``gtserror.WithCode`` idea).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from starlette.exceptions import HTTPException

from node.errors import AlreadyExists, InvalidInput, NodeError, NotFound
from node.inbound.verify import DomainBlocked
from node.remote.fetch import RemoteError
from node.web.responses import JsonResponse
from protocol.errors import (
    KeyOwnerMismatch,
    ProtocolError,
    SignatureError,
    TooLarge,
    UnsafeURL,
)

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Mapping

    from starlette.requests import Request
    from starlette.responses import Response

    Handler = Callable[[Request, Exception], Awaitable[Response]]

__all__ = ["STATUS", "error_response", "exception_handlers"]

logger = logging.getLogger(__name__)

MAX_MESSAGE = 200

STATUS: Mapping[type[Exception], int] = {
    # protocol: what a remote party sent breaks a rule.
    ProtocolError: 400,
    SignatureError: 401,  # Mastodon signature_verification.rb answers 401 too
    KeyOwnerMismatch: 401,
    UnsafeURL: 400,
    TooLarge: 413,
    # node: our own refusals.
    NodeError: 500,  # config or schema trouble while serving: not the client's fault
    InvalidInput: 400,
    NotFound: 404,
    AlreadyExists: 409,
    DomainBlocked: 403,  # Mastodon answers a blocked domain 403 (signature_verification.rb)
    RemoteError: 502,  # a document we had to fetch could not be had
}


def status_for(error: Exception) -> int:
    """The HTTP status for ``error``; unknown errors are 500."""
    for cls in type(error).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 500


def error_response(error: Exception) -> JsonResponse:
    """``{"error": message}`` with the status for ``error``; logs the detail."""
    status = status_for(error)
    if status >= 500:
        logger.error("request failed: %r", error, exc_info=error)
        return JsonResponse({"error": "internal error"}, status)
    logger.info("refused with %d: %r", status, error)
    message = str(error)
    if len(message) > MAX_MESSAGE:
        message = message[: MAX_MESSAGE - 1] + "…"
    return JsonResponse({"error": message}, status)


async def _handle(_request: Request, error: Exception) -> Response:
    return error_response(error)


async def _handle_http(_request: Request, error: Exception) -> Response:
    """Starlette's own 404/405: the same JSON shape as ours."""
    if not isinstance(error, HTTPException):
        return error_response(error)
    return JsonResponse({"error": error.detail}, error.status_code, headers=error.headers)


def exception_handlers() -> Mapping[type[Exception], Handler]:
    """Handlers for ``Starlette(exception_handlers=...)``; ``Exception`` catches the rest (500)."""
    return {
        HTTPException: _handle_http,
        ProtocolError: _handle,
        NodeError: _handle,
        Exception: _handle,
    }
