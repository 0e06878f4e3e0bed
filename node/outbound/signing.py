"""HTTP signatures computed off the event loop, in small batches.

An RSA-2048 signature costs hundreds of microseconds of CPU, and a fan-out
needs one per inbox (the signature covers host and path). Signed on the event
loop, a thousand deliveries would stall every request ``serve`` is answering
for about a second. OpenSSL releases the GIL while it signs, so a thread can
sign while the loop does HTTP. Signing requests made in the same loop
iteration (a claimed batch starting together) go to the thread as one job of
at most ``chunk`` signatures: one hand-off per chunk, not per request.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Final

from protocol.httpsig import sign

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from protocol.http import HttpRequest
    from protocol.httpsig import Scheme
    from protocol.keys import SigningKey

__all__ = ["SigningThread"]

_Job = tuple["HttpRequest", "SigningKey", "datetime", "Scheme"]
_Signed = list[dict[str, str] | ValueError]
_CHUNK: Final = 16


class SigningThread:
    """Signs on one background thread; ``await signer.sign(...)`` from the event loop."""

    def __init__(self, chunk: int = _CHUNK) -> None:
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="httpsig")
        self._chunk = chunk
        self._jobs: list[_Job] = []
        self._waiters: list[asyncio.Future[dict[str, str]]] = []

    async def sign(
        self, request: HttpRequest, key: SigningKey, *, now: datetime, scheme: Scheme
    ) -> dict[str, str]:
        """The headers :func:`protocol.httpsig.sign` would return, computed on the thread."""
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[dict[str, str]] = loop.create_future()
        if not self._jobs:
            loop.call_soon(self._submit)  # collect every request made in this loop iteration
        self._jobs.append((request, key, now, scheme))
        self._waiters.append(waiter)
        return await waiter

    def close(self) -> None:
        """Stop the thread; signatures not yet computed are abandoned."""
        self._executor.shutdown(wait=False, cancel_futures=True)

    def _submit(self) -> None:
        jobs, waiters = self._jobs, self._waiters
        self._jobs, self._waiters = [], []
        for start in range(0, len(jobs), self._chunk):
            chunk = jobs[start : start + self._chunk]
            done = asyncio.wrap_future(self._executor.submit(_sign_all, chunk))
            done.add_done_callback(_deliver(waiters[start : start + self._chunk]))


def _sign_all(jobs: list[_Job]) -> _Signed:
    results: _Signed = []
    for request, key, now, scheme in jobs:
        try:
            results.append(sign(request, key, now=now, scheme=scheme))
        except ValueError as exc:  # e.g. a key id that cannot be quoted: that request fails
            results.append(exc)
    return results


def _deliver(
    waiters: list[asyncio.Future[dict[str, str]]],
) -> Callable[[asyncio.Future[_Signed]], None]:
    """A callback handing each waiter its own signature (or error) from a finished chunk."""

    def deliver(done: asyncio.Future[_Signed]) -> None:
        if done.cancelled():
            for waiter in waiters:
                waiter.cancel()
            return
        error = done.exception()
        for index, waiter in enumerate(waiters):
            if waiter.done():  # the delivery was cancelled meanwhile
                continue
            if error is not None:
                waiter.set_exception(error)
                continue
            result = done.result()[index]
            if isinstance(result, ValueError):
                waiter.set_exception(result)
            else:
                waiter.set_result(result)

    return deliver
