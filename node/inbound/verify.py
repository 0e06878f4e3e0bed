"""Who sent this? The HTTP signature, checked against the sender's key, and the sender's right.

In order, each refusal with its status (Mastodon signature_verification.rb):
no signature → 401; body not JSON or not an activity → 400; the key's or
the actor's domain blocked → 403; key unknown and not fetchable, signature
invalid or outside its time window → 401; the signer does not own the
activity's ``actor`` → 401. A key that fails to verify is refetched once
first (rotation).

One activity is let through unverified, and dropped: a ``Delete`` of an
actor whose key we never had and can no longer fetch. Mastodon broadcasts
those to every server it knows; there is nothing to delete, and answering
401 only makes the sender retry.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from node.errors import NodeError
from node.remote.fetch import RemoteError
from node.store.moderation import domain_is_blocked
from protocol.errors import (
    InvalidSignature,
    ProtocolError,
    SignatureError,
    UnsupportedAlgorithm,
)
from protocol.httpsig import VerifyPolicy, parse_signature, verify
from protocol.httpsig.model import check_window
from protocol.keys import check_key_owner
from protocol.parse import parse_activity
from protocol.safety import decode_json
from protocol.vocab import ActivityType

if TYPE_CHECKING:
    from datetime import datetime

    from node.remote.actors import RemoteActors
    from protocol.http import HttpRequest
    from protocol.httpsig import SignatureParams
    from protocol.keys import PublicKey
    from protocol.objects import Activity

__all__ = ["DomainBlocked", "KeyUnavailable", "SignedActivity", "verify_request"]

logger = logging.getLogger(__name__)

_POLICY = VerifyPolicy()  # Mastodon's window: 1 h of skew, 5 min validity, 12 h at most


class DomainBlocked(NodeError):
    """The sender's domain is blocked on this node (answered 403, as Mastodon does)."""


class KeyUnavailable(SignatureError):
    """The signature's key is not stored and could not be fetched from its owner."""


@dataclass(frozen=True, slots=True)
class SignedActivity:
    """An activity whose signature verified, signed by a key its actor owns."""

    activity: Activity
    key_id: str


async def verify_request(
    remote: RemoteActors, request: HttpRequest, now: datetime
) -> SignedActivity | None:
    """Check ``request`` (an inbox POST); ``None`` means acknowledge and drop (see above)."""
    params = parse_signature(request)
    if params.created is not None:  # a stale request costs no key fetch (verify checks again)
        check_window(params.created, params.expires, now, _POLICY)
    activity = parse_activity(decode_json(request.body))
    await _refuse_blocked(remote, params.key_id, activity.actor)
    try:
        key = await _verified_key(remote, request, params, now)
    except KeyUnavailable:
        if _deletes_itself(activity):
            logger.info("dropped Delete of unknown actor %s", activity.actor)
            return None
        raise
    check_key_owner(key, activity.actor)
    return SignedActivity(activity, key.id)


async def _refuse_blocked(remote: RemoteActors, key_id: str, actor: str) -> None:
    hosts = {urlsplit(iri).hostname or "" for iri in (key_id, actor)}
    async with remote.sessions() as session:
        for host in sorted(hosts):
            if await domain_is_blocked(session, host):
                raise DomainBlocked(f"requests from {host} are not accepted here")


async def _verified_key(
    remote: RemoteActors, request: HttpRequest, params: SignatureParams, now: datetime
) -> PublicKey:
    """The key that verifies ``request``: stored, fetched, or refetched once after a failure."""
    try:
        found = await remote.key_for(params.key_id, now)
    except (RemoteError, ProtocolError) as exc:
        raise KeyUnavailable(f"key {params.key_id} is unavailable: {exc}") from None
    try:
        verify(request, params, found.key, now=now, policy=_POLICY)
    except (InvalidSignature, UnsupportedAlgorithm):
        if found.fresh:
            raise
        logger.info("signature by %s failed; refetching its owner once", params.key_id)
    else:
        return found.key
    try:
        key = await remote.refetch_key(params.key_id, now)
    except (RemoteError, ProtocolError) as exc:
        raise InvalidSignature(f"signature does not match key {params.key_id} ({exc})") from None
    verify(request, params, key, now=now, policy=_POLICY)
    return key


def _deletes_itself(activity: Activity) -> bool:
    obj = activity.object
    target = obj if isinstance(obj, str) else getattr(obj, "id", None)
    return activity.type is ActivityType.DELETE and target == activity.actor
