"""Where each local actor lives: the one place that turns handles into IRIs and paths.

The route table (``node.web.routes``) serves exactly these paths, and every
IRI stored for a local actor is built here, so a WebFinger ``self`` link, the
actor's ``id`` and the URL that serves it cannot drift apart (Mastodon's
loop-back check, fetch_remote_actor_service.rb).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "APPLICATION_PATH",
    "COOP_PATH",
    "MEMBER_PATH",
    "SHARED_INBOX_PATH",
    "ActorIris",
    "application_iris",
    "coop_iris",
    "member_iris",
]

COOP_PATH = "/coop"
MEMBER_PATH = "/members/{username}"
APPLICATION_PATH = "/actor"  # FEP-2677 / Mastodon's instance actor lives at /actor too
SHARED_INBOX_PATH = "/inbox"


@dataclass(frozen=True, slots=True)
class ActorIris:
    """The IRIs of one local actor and its collections and keys."""

    id: str
    inbox: str
    outbox: str
    followers: str
    following: str
    featured: str
    shared_inbox: str
    rsa_key_id: str
    ed25519_key_id: str

    @classmethod
    def under(cls, base_url: str, path: str) -> ActorIris:
        """IRIs for the actor served at ``base_url + path``."""
        actor = base_url + path
        return cls(
            id=actor,
            inbox=f"{actor}/inbox",
            outbox=f"{actor}/outbox",
            followers=f"{actor}/followers",
            following=f"{actor}/following",
            featured=f"{actor}/featured",
            shared_inbox=base_url + SHARED_INBOX_PATH,
            # Fragment key ids, as Mastodon publishes them (anchors.md §4.2).
            rsa_key_id=f"{actor}#main-key",
            ed25519_key_id=f"{actor}#ed25519-key",
        )


def coop_iris(base_url: str) -> ActorIris:
    """The co-op's Group actor."""
    return ActorIris.under(base_url, COOP_PATH)


def member_iris(base_url: str, username: str) -> ActorIris:
    """A member's Person actor."""
    return ActorIris.under(base_url, MEMBER_PATH.format(username=username))


def application_iris(base_url: str) -> ActorIris:
    """The node's Application actor."""
    return ActorIris.under(base_url, APPLICATION_PATH)
