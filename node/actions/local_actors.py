"""Minting local actors: IRIs from ``node.iris`` and fresh keys, as store models.

Every local actor gets an RSA-2048 key (``#main-key``: what Mastodon verifies)
and an Ed25519 key (``#ed25519-key``: FEP-521a ``assertionMethod``, RFC 9421).
Key generation is CPU work (~50-200 ms for RSA), so async callers run
:func:`build_local_actor` in a thread.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from node.store.models import Actor, ActorKey, ActorKind, KeyAlgorithm
from protocol.keys import SigningKey, generate_ed25519, generate_rsa
from protocol.vocab import ActorType

if TYPE_CHECKING:
    from datetime import datetime

    from node.iris import ActorIris

__all__ = ["AP_TYPES", "build_local_actor"]

AP_TYPES = {
    ActorKind.COOP: ActorType.GROUP,
    ActorKind.MEMBER: ActorType.PERSON,
    ActorKind.APPLICATION: ActorType.APPLICATION,
}


def build_local_actor(
    *,
    iris: ActorIris,
    kind: ActorKind,
    handle: str,
    domain: str,
    name: str,
    now: datetime,
) -> Actor:
    """A new, unsaved local actor of ``kind`` with its two current keys."""
    keys = [
        _stored_key(generate_rsa(iris.rsa_key_id), iris.id, now),
        _stored_key(generate_ed25519(iris.ed25519_key_id), iris.id, now),
    ]
    application = kind is ActorKind.APPLICATION
    return Actor(
        iri=iris.id,
        kind=kind,
        ap_type=AP_TYPES[kind].value,
        handle=handle,
        domain=domain,
        name=name,
        summary="",
        url=iris.id,
        inbox=iris.inbox,
        shared_inbox=iris.shared_inbox,
        outbox=iris.outbox,
        followers=iris.followers,
        following=iris.following,
        featured=iris.featured,
        # Nobody should follow the node's own actor; Mastodon's instance actor is locked too.
        manually_approves_followers=application,
        discoverable=not application,
        published=now,
        fetched_at=None,
        keys=keys,
    )


def _stored_key(key: SigningKey, owner: str, now: datetime) -> ActorKey:
    return ActorKey(
        key_id=key.id,
        algorithm=KeyAlgorithm(key.algorithm),
        public_pem=key.public(owner).pem(),
        private_pem=key.pem(),
        created=now,
        is_current=True,
    )
