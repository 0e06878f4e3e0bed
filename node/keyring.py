"""The local actors' private keys, loaded once per process.

Loading an RSA private key costs about 50 ms (its consistency checks), far
more than signing with it, so the app loads every current local key at
startup and hands out the loaded :class:`~protocol.keys.SigningKey` objects.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from node.store.actors import local_signing_keys
from protocol.keys import SigningKey, load_private_pem

if TYPE_CHECKING:
    from collections.abc import Mapping

    from node.store.db import Sessions

__all__ = ["Keyring", "load_keyring"]


@dataclass(frozen=True, slots=True)
class Keyring:
    """Loaded signing keys by key id, and each local actor's key ids."""

    keys: Mapping[str, SigningKey]
    by_actor: Mapping[str, tuple[str, ...]]

    def signing_key(self, actor_iri: str, algorithm: str = "rsa") -> SigningKey | None:
        """The current key of ``algorithm`` (``"rsa"`` or ``"ed25519"``) for a local actor."""
        for key_id in self.by_actor.get(actor_iri, ()):
            key = self.keys[key_id]
            if key.algorithm == algorithm:
                return key
        return None


async def load_keyring(sessions: Sessions) -> Keyring:
    """Read and load every current private key of the local actors."""
    async with sessions() as session:
        rows = await local_signing_keys(session)
    keys: dict[str, SigningKey] = {}
    by_actor: dict[str, list[str]] = {}
    for actor_iri, stored in rows:
        if stored.private_pem is None:  # the query excludes these; keeps mypy honest
            continue
        keys[stored.key_id] = load_private_pem(stored.private_pem, stored.key_id, trusted=True)
        by_actor.setdefault(actor_iri, []).append(stored.key_id)
    return Keyring(keys, {iri: tuple(ids) for iri, ids in by_actor.items()})
