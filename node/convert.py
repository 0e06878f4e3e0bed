"""Store models to protocol objects (and back, as the inbox arrives).

Named ``x_to_y`` after GoToSocial's typeutils: each function maps one shape
onto another and does nothing else; serialising is :mod:`protocol.serialize`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from node.store.models import KeyAlgorithm
from protocol.keys import load_public_pem
from protocol.objects import Actor as APActor
from protocol.vocab import ActorType

if TYPE_CHECKING:
    from collections.abc import Sequence

    from node.store.models import Actor, ActorKey

__all__ = ["actor_to_ap"]


def actor_to_ap(actor: Actor, keys: Sequence[ActorKey], federation: str | None = None) -> APActor:
    """The AS2 actor for a stored actor and its current keys.

    RSA keys go in ``publicKey`` (Mastodon verifies only RSA and reads the
    first key); Ed25519 keys go in FEP-521a ``assertionMethod``. ``federation``
    (``sc:federation``) is given only for the co-op's Group.
    """
    loaded = [load_public_pem(key.public_pem, key.key_id, actor.iri) for key in keys]
    return APActor(
        id=actor.iri,
        type=ActorType(actor.ap_type),
        inbox=actor.inbox,
        outbox=actor.outbox,
        followers=actor.followers,
        following=actor.following,
        featured=actor.featured,
        shared_inbox=actor.shared_inbox,
        preferred_username=actor.handle,
        name=actor.name or None,
        summary=actor.summary or None,
        url=actor.url,
        manually_approves_followers=actor.manually_approves_followers,
        discoverable=actor.discoverable,
        indexable=actor.discoverable,
        published=actor.published,
        public_keys=tuple(
            key
            for key, stored in zip(loaded, keys, strict=True)
            if stored.algorithm is KeyAlgorithm.RSA
        ),
        assertion_methods=tuple(
            key
            for key, stored in zip(loaded, keys, strict=True)
            if stored.algorithm is KeyAlgorithm.ED25519
        ),
        federation=federation,
    )
