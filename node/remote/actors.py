"""The remote actor cache: actors and keys fetched once, kept a day, refetched on rotation.

Keys are looked up by the ``keyId`` a signature names. An unknown key means
fetching its owner (:meth:`RemoteActors.key_for`); a known key that fails to
verify means the owner may have rotated it, so the owner is fetched again,
once (Mastodon signature_verification.rb ``actor_refresh_key!``). Actor
documents (inboxes, profile) are refetched when older than ``max_age``;
keys are not, since a failed signature already triggers the refetch.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlsplit

from node.remote.fetch import RemoteError
from node.store import remote_actors as store
from node.store.db import transaction
from node.store.models import ActorKey, KeyAlgorithm
from protocol.errors import KeyOwnerMismatch, ProtocolError
from protocol.keys import PublicKey, check_key_owner, load_public_pem

if TYPE_CHECKING:
    from collections.abc import Iterable
    from datetime import datetime

    from sqlalchemy.ext.asyncio import AsyncSession

    from node.remote.fetch import Fetcher
    from node.store.db import Sessions
    from node.store.models import Actor
    from protocol.objects import Actor as APActor

__all__ = ["CACHE_FOR", "FoundKey", "RemoteActors", "public_key", "save_actor"]

CACHE_FOR: Final = timedelta(days=1)
_MAX_IRI: Final = 2048  # the IRI columns' width (node.store.models.IRI)
_MAX_HANDLE: Final = 255


@dataclass(frozen=True, slots=True)
class FoundKey:
    """A key to verify with; ``fresh`` when fetched just now (a failure is then final)."""

    key: PublicKey
    fresh: bool


@functools.lru_cache(maxsize=4096)
def public_key(pem: str, key_id: str, owner: str) -> PublicKey:
    """A stored PEM, loaded once per process (parsing costs more than verifying)."""
    return load_public_pem(pem, key_id, owner)


class RemoteActors:
    """Cached remote actors and keys, backed by the database and a :class:`Fetcher`."""

    def __init__(
        self, sessions: Sessions, fetcher: Fetcher, base_url: str, max_age: timedelta = CACHE_FOR
    ) -> None:
        self.sessions = sessions
        self.fetcher = fetcher
        self._base_url = base_url
        self._max_age = max_age

    async def key_for(self, key_id: str, now: datetime) -> FoundKey:
        """The key named ``key_id``: stored, else fetched with its owner and stored."""
        async with self.sessions() as session:
            found = await store.get_key_with_owner(session, key_id)
        if found is not None:
            stored, owner = found
            return FoundKey(public_key(stored.public_pem, stored.key_id, owner), fresh=False)
        return FoundKey(await self.refetch_key(key_id, now), fresh=True)

    async def refetch_key(self, key_id: str, now: datetime) -> PublicKey:
        """Fetch the owner of ``key_id`` again, store it, and return the key it now publishes."""
        if self.is_local(key_id):
            raise RemoteError(f"{key_id} is this node's own key; it is never fetched")
        actor = await self.fetcher.key_owner(key_id)
        async with transaction(self.sessions) as session:
            await save_actor(session, actor, now)
        for key in (*actor.public_keys, *actor.assertion_methods):
            if key.id == key_id:
                check_key_owner(key, actor.id)
                return key
        raise KeyOwnerMismatch(f"{actor.id} does not publish the key {key_id}")

    async def actor(self, iri: str, now: datetime) -> Actor:
        """The remote actor ``iri``: cached, refetched when stale, else fetched.

        Reads and writes in units of work of its own, never across the fetch,
        so no transaction waits on the network. A stale copy is still used
        when the refetch fails.
        """
        if self.is_local(iri):
            raise RemoteError(f"{iri} is on this node, not a remote actor")
        async with self.sessions() as session:
            cached = await store.get_remote_actor(session, iri)
        if cached is not None and not self._stale(cached, now):
            return cached
        try:
            fetched = await self.fetcher.actor(iri)
        except RemoteError:
            if cached is None:
                raise
            return cached
        async with transaction(self.sessions) as session:
            return await save_actor(session, fetched, now)

    def _stale(self, actor: Actor, now: datetime) -> bool:
        return actor.fetched_at is None or now - actor.fetched_at > self._max_age

    def is_local(self, iri: str) -> bool:
        """Whether ``iri`` is on this node (never fetched, never cached as remote)."""
        return iri == self._base_url or iri.startswith(self._base_url + "/")


async def save_actor(session: AsyncSession, fetched: APActor, now: datetime) -> Actor:
    """Insert or refresh the cached copy of a remote actor, replacing its keys."""
    _check_fits(fetched)
    actor = await store.upsert_remote_actor(
        session, fetched.id, fetched.published or now, _columns(fetched, now)
    )
    if actor is None:
        raise RemoteError(f"{fetched.id} is an actor of this node, not a remote one")
    await store.replace_keys(session, actor, _keys(fetched, now))
    return actor


def _columns(fetched: APActor, now: datetime) -> dict[str, Any]:
    parts = urlsplit(fetched.id)
    return {
        "ap_type": fetched.type.value,
        "handle": fetched.preferred_username or parts.path.rstrip("/").rsplit("/", 1)[-1],
        "domain": parts.netloc.lower(),
        # Stored as received; sanitised where it is shown (HTML from elsewhere).
        "name": fetched.name or "",
        "summary": fetched.summary or "",
        "url": fetched.url if fetched.url and len(fetched.url) <= _MAX_IRI else None,
        "inbox": fetched.inbox,
        "shared_inbox": fetched.shared_inbox,
        "outbox": fetched.outbox,
        "followers": fetched.followers,
        "following": fetched.following,
        "featured": fetched.featured,
        "manually_approves_followers": fetched.manually_approves_followers,
        "discoverable": fetched.discoverable,
        "fetched_at": now,
    }


def _keys(fetched: APActor, now: datetime) -> list[ActorKey]:
    """The keys the actor controls (others are ignored), one current key per algorithm."""
    keys: list[ActorKey] = []
    seen: set[str] = set()
    current: set[KeyAlgorithm] = set()
    for key in _owned(fetched, (*fetched.public_keys, *fetched.assertion_methods)):
        if key.id in seen or len(key.id) > _MAX_IRI:
            continue
        seen.add(key.id)
        algorithm = KeyAlgorithm(key.algorithm)
        keys.append(
            ActorKey(
                key_id=key.id,
                algorithm=algorithm,
                public_pem=key.pem(),
                private_pem=None,
                created=now,
                is_current=algorithm not in current,
            )
        )
        current.add(algorithm)
    return keys


def _owned(fetched: APActor, keys: Iterable[PublicKey]) -> Iterable[PublicKey]:
    for key in keys:
        try:
            check_key_owner(key, fetched.id)
        except ProtocolError:
            continue
        yield key


def _check_fits(fetched: APActor) -> None:
    """Refuse an actor whose IRIs or handle are wider than our columns."""
    iris = (
        fetched.id,
        fetched.inbox,
        fetched.shared_inbox,
        fetched.outbox,
        fetched.followers,
        fetched.following,
        fetched.featured,
    )
    if any(iri is not None and len(iri) > _MAX_IRI for iri in iris):
        raise RemoteError(f"an IRI of {fetched.id[:200]} is over {_MAX_IRI} characters")
    if len(fetched.preferred_username or "") > _MAX_HANDLE:
        raise RemoteError(f"{fetched.id} has a preferredUsername over {_MAX_HANDLE} characters")
