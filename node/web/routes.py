"""Every URL this node serves, in one list."""

from __future__ import annotations

from starlette.routing import Route

from node.iris import APPLICATION_PATH, COOP_PATH, MEMBER_PATH, SHARED_INBOX_PATH
from node.web import activitypub, actors, collections, wellknown

__all__ = ["ROUTES"]

ROUTES = [
    # Discovery (RFC 7033, RFC 6415, NodeInfo / FEP-f1d5).
    Route("/.well-known/webfinger", wellknown.webfinger, methods=["GET"]),
    Route("/.well-known/host-meta", wellknown.host_meta, methods=["GET"]),
    Route("/.well-known/host-meta.json", wellknown.host_meta_json, methods=["GET"]),
    Route("/.well-known/nodeinfo", wellknown.nodeinfo_links, methods=["GET"]),
    Route("/nodeinfo/{version}", wellknown.nodeinfo_document, methods=["GET"]),
    # Actors (paths from node.iris, so ids and routes cannot drift apart).
    Route(APPLICATION_PATH, actors.application_actor, methods=["GET"]),
    Route(COOP_PATH, actors.coop_actor, methods=["GET"]),
    Route(MEMBER_PATH, actors.member_actor, methods=["GET"]),
    # Inboxes: shared and per actor (AP §7.1.3, §5.2).
    Route(SHARED_INBOX_PATH, activitypub.shared_inbox, methods=["POST"]),
    *(
        Route(f"{path}/inbox", activitypub.actor_inbox, methods=["POST"])
        for path in (APPLICATION_PATH, COOP_PATH, MEMBER_PATH)
    ),
    # Collections of each local actor (AP §5).
    *(
        Route(f"{path}/{name}", handler, methods=["GET"])
        for path in (APPLICATION_PATH, COOP_PATH, MEMBER_PATH)
        for name, handler in (
            ("outbox", collections.outbox),
            ("followers", collections.followers),
            ("following", collections.following),
            ("featured", collections.featured),
        )
    ),
]
