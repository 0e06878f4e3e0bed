"""Body digests: ``Digest`` (RFC 3230) for draft-cavage, ``Content-Digest`` (RFC 9530).

A signature covers the digest header, not the body, so the digest must be
recomputed from the body we received and compared; otherwise a signed request
could carry any body. Comparison is constant time (:func:`hmac.compare_digest`).

* ``Digest: SHA-256=<base64>``: what Mastodon sends and requires on POST
  (signed_request.rb). Algorithm names are case-insensitive and the field may be
  a comma list (RFC 3230 §4.3.2); we need a SHA-256 entry and check every one.
* ``Content-Digest: sha-256=:<base64>:``: an RFC 8941 Dictionary of byte
  sequences. We check every ``sha-256`` and ``sha-512`` member (RFC 9530 §5
  lists both as active) and need at least one of them.
"""

from __future__ import annotations

import hashlib
import hmac
from binascii import b2a_base64
from typing import TYPE_CHECKING

from protocol.errors import DigestMismatch, SignatureMalformed
from protocol.httpsig import sfv

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = [
    "check_content_digest",
    "check_digest",
    "content_digest_header",
    "digest_header",
]

_HASHES: dict[str, Callable[[bytes], hashlib._Hash]] = {
    "sha-256": hashlib.sha256,
    "sha-512": hashlib.sha512,
}


def _b64(data: bytes) -> str:
    return b2a_base64(data, newline=False).decode("ascii")


def digest_header(body: bytes) -> str:
    """The RFC 3230 ``Digest`` value Mastodon expects: ``SHA-256=<base64>``."""
    return "SHA-256=" + _b64(hashlib.sha256(body).digest())


def content_digest_header(body: bytes) -> str:
    """The RFC 9530 ``Content-Digest`` value: ``sha-256=:<base64>:``."""
    return "sha-256=:" + _b64(hashlib.sha256(body).digest()) + ":"


def check_digest(value: str | None, body: bytes) -> None:
    """Raise :class:`DigestMismatch` unless ``value`` holds a matching SHA-256 digest."""
    if value is None:
        raise DigestMismatch("the request has a body but no Digest header")
    expected = b2a_base64(hashlib.sha256(body).digest(), newline=False)
    # Fast path: the single "SHA-256=..." entry every fediverse sender writes.
    if value.startswith(("SHA-256=", "sha-256=")) and "," not in value:
        if not hmac.compare_digest(value[8:].strip().encode(), expected):
            raise DigestMismatch("Digest SHA-256 does not match the body")
        return
    found = False
    for entry in value.split(","):
        algorithm, sep, encoded = entry.strip().partition("=")
        if not sep:
            raise DigestMismatch("Digest entry is not algorithm=value")
        if algorithm.lower() == "sha-256":
            found = True
            if not hmac.compare_digest(encoded.strip().encode(), expected):
                raise DigestMismatch("Digest SHA-256 does not match the body")
    if not found:
        raise DigestMismatch("Digest has no SHA-256 entry (Mastodon accepts only SHA-256)")


def check_content_digest(value: str | None, body: bytes) -> None:
    """Raise :class:`DigestMismatch` unless every sha-256/sha-512 member matches the body."""
    if value is None:
        raise DigestMismatch("the request has a body but no Content-Digest header")
    # Fast path: exactly the canonical single sha-256 member we would write.
    expected = b"sha-256=:" + b2a_base64(hashlib.sha256(body).digest(), newline=False) + b":"
    if hmac.compare_digest(value.encode(), expected):
        return
    try:
        members = sfv.parse_dictionary(value)
    except SignatureMalformed as exc:
        raise DigestMismatch(f"Content-Digest does not parse: {exc}") from None
    checked = 0
    for algorithm, member in members.items():
        hasher = _HASHES.get(algorithm)
        if hasher is None:
            continue  # RFC 9530 §2: a recipient may ignore unknown algorithms.
        if not isinstance(member, sfv.Item) or not isinstance(member.value, bytes):
            raise DigestMismatch(f"Content-Digest {algorithm} is not a byte sequence")
        if not hmac.compare_digest(member.value, hasher(body).digest()):
            raise DigestMismatch(f"Content-Digest {algorithm} does not match the body")
        checked += 1
    if not checked:
        raise DigestMismatch("Content-Digest has no sha-256 or sha-512 member")
