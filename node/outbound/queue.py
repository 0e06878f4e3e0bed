"""The transactional outbox: delivery rows written in the caller's transaction.

:func:`enqueue` never commits. The activity and its delivery rows commit
with the change that caused them (a Follow stored, a post published) or not
at all, so an activity is never sent for a change that rolled back, nor lost
for one that committed. When the commit happens, an in-process worker is woken
(see :func:`bind_wakeup`); workers in other processes find the rows by polling.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final

from sqlalchemy import event

from node.errors import InvalidInput
from node.store import deliveries
from protocol.http import HttpRequest
from protocol.serialize import dumps

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from sqlalchemy.ext.asyncio import AsyncSession
    from sqlalchemy.orm import Session

    from node.store.db import Sessions

__all__ = ["WAKEUP_KEY", "Enqueued", "bind_wakeup", "domain_of", "enqueue", "mark_domain_alive"]

# Session.info key holding the worker's asyncio.Event (set by bind_wakeup).
WAKEUP_KEY: Final = "sharing_care.delivery_wakeup"
_WAKE_PENDING: Final = "sharing_care.delivery_wake_pending"


@dataclass(frozen=True, slots=True)
class Enqueued:
    """What :func:`enqueue` wrote: the activity row (None if nothing to send) and the inboxes.

    ``skipped`` lists inboxes left out: their domain is unavailable, or the URL
    has no host to deliver to.
    """

    activity_id: int | None
    inboxes: tuple[str, ...]
    skipped: tuple[str, ...]


def domain_of(url: str) -> str | None:
    """The delivery domain of a URL: lower-case host, with the port unless it is the default."""
    try:
        authority = HttpRequest("POST", url.strip()).authority
    except ValueError:  # a port that is not a number
        return None
    return authority or None


async def enqueue(
    session: AsyncSession,
    activity_json: Mapping[str, Any],
    sender_iri: str,
    inbox_urls: Iterable[str],
    *,
    now: datetime | None = None,
) -> Enqueued:
    """Queue ``activity_json`` from the local actor ``sender_iri`` to each distinct inbox.

    Callers pass shared inboxes where the recipients have one; duplicates are
    dropped here, so a thousand followers on one server cost one row. Inboxes
    on unavailable domains are skipped (Mastodon's DeliveryFailureTracker).
    Runs in the caller's transaction and does not commit.
    """
    activity_iri = activity_json.get("id")
    if not isinstance(activity_iri, str) or not activity_iri:
        raise InvalidInput("an activity to deliver needs an id")
    moment = now or datetime.now(UTC)
    targets: dict[str, str] = {}
    skipped: list[str] = []
    for url in inbox_urls:
        inbox = url.strip()
        if inbox in targets or inbox in skipped:
            continue
        domain = domain_of(inbox)
        if domain is None:
            skipped.append(inbox)
        else:
            targets[inbox] = domain
    if not targets:
        return Enqueued(None, (), tuple(skipped))
    # Write before reading: on SQLite a transaction that read first cannot take the write
    # lock once another connection (the worker) has committed since ("database is locked").
    activity_id = await deliveries.add_activity(
        session, activity_iri, sender_iri, dumps(activity_json), moment
    )
    unavailable = await deliveries.unavailable_domains(session, set(targets.values()))
    rows = [(inbox, domain) for inbox, domain in targets.items() if domain not in unavailable]
    skipped += [inbox for inbox, domain in targets.items() if domain in unavailable]
    if not rows:
        await deliveries.remove_activity(session, activity_id)
        return Enqueued(None, (), tuple(skipped))
    await deliveries.add_deliveries(session, activity_id, rows, moment)
    _wake_after_commit(session)
    return Enqueued(activity_id, tuple(inbox for inbox, _ in rows), tuple(skipped))


async def mark_domain_alive(session: AsyncSession, domain: str) -> bool:
    """The domain answered (e.g. it sent us a signed request): forget its failures.

    Paused deliveries to it become due again. Cheap when there is nothing to
    forget, so the inbox may call it on every request. Does not commit.
    """
    changed = await deliveries.reset_domain(session, domain.lower())
    if changed:
        _wake_after_commit(session)
    return changed


def bind_wakeup(sessions: Sessions, wakeup: asyncio.Event) -> None:
    """Make every session from ``sessions`` set ``wakeup`` after a commit that queued work."""
    info = dict(sessions.kw.get("info") or {})
    info[WAKEUP_KEY] = wakeup
    sessions.configure(info=info)


def _wake_after_commit(session: AsyncSession) -> None:
    """Arrange for the in-process worker to be woken once this transaction commits."""
    if not isinstance(session.info.get(WAKEUP_KEY), asyncio.Event):
        return
    session.info[_WAKE_PENDING] = True
    sync = session.sync_session
    if not event.contains(sync, "after_commit", _set_wakeup):
        event.listen(sync, "after_commit", _set_wakeup)


def _set_wakeup(sync_session: Session) -> None:
    if sync_session.info.pop(_WAKE_PENDING, False):
        wakeup = sync_session.info.get(WAKEUP_KEY)
        if isinstance(wakeup, asyncio.Event):
            wakeup.set()
