"""The node's tables, as typed SQLAlchemy 2 models.

One ``Actor`` table holds local and remote actors alike (GoToSocial's
``accounts`` idea): follows, deliveries and objects point at actors without
caring where they live. Local actors own private keys; remote ones only
public keys, refreshed on rotation. Times are stored as aware UTC datetimes on
both databases (SQLite has no time zone type, see :class:`UTCDateTime`).
"""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    DateTime,
    Enum,
    ForeignKey,
    Index,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
    text,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from protocol.httpsig import Scheme

__all__ = [
    "Actor",
    "ActorKey",
    "ActorKind",
    "Base",
    "Block",
    "Delivery",
    "DeliveryState",
    "DomainBlock",
    "DomainHealth",
    "Follow",
    "FollowState",
    "InboxLog",
    "KeyAlgorithm",
    "Member",
    "MemberRole",
    "OutgoingActivity",
    "Report",
    "UTCDateTime",
]

# Stable constraint names, so Alembic migrations can name what they alter on
# both SQLite (batch mode) and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

IRI = String(2048)


class UTCDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime on every database; naive values are refused.

    SQLite stores DATETIME as text without an offset and hands back naive
    values; this type attaches UTC on the way out so comparisons never mix
    naive and aware times.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class ActorKind(enum.StrEnum):
    """Who an actor is to this node."""

    COOP = "coop"  # the co-op's Group (FEP-1b12)
    MEMBER = "member"  # a member's Person
    APPLICATION = "application"  # the node's own actor, signs fetches (FEP-2677)
    REMOTE = "remote"  # anyone elsewhere, cached from a fetch


class KeyAlgorithm(enum.StrEnum):
    """Key types we publish and verify."""

    RSA = "rsa"
    ED25519 = "ed25519"


class MemberRole(enum.StrEnum):
    """What a member may do on the node."""

    ADMIN = "admin"
    EDITOR = "editor"
    MEMBER = "member"


def _enum(kind: type[enum.StrEnum], name: str) -> Enum:
    """A VARCHAR + CHECK enum storing values, portable across SQLite and PostgreSQL."""
    return Enum(
        kind,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=16,
        values_callable=lambda members: [member.value for member in members],
    )


class Base(DeclarativeBase):
    """Declarative base with the naming convention and the UTC datetime type."""

    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime()}  # noqa: RUF012 (SQLAlchemy's class attribute)


class Actor(Base):
    """An ActivityPub actor, local (coop, member, application) or remote."""

    __tablename__ = "actors"
    __table_args__ = (
        # One local actor per handle: WebFinger resolves acct:handle@our-domain to exactly one.
        Index(
            "uq_actors_local_handle",
            "handle",
            unique=True,
            sqlite_where=text("kind != 'remote'"),
            postgresql_where=text("kind != 'remote'"),
        ),
        Index("ix_actors_domain_handle", "domain", "handle"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    iri: Mapped[str] = mapped_column(IRI, unique=True)
    kind: Mapped[ActorKind] = mapped_column(_enum(ActorKind, "actor_kind"))
    ap_type: Mapped[str] = mapped_column(String(32))
    handle: Mapped[str] = mapped_column(String(255))
    domain: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(Text, default="")
    summary: Mapped[str] = mapped_column(Text, default="")
    url: Mapped[str | None] = mapped_column(IRI)
    inbox: Mapped[str] = mapped_column(IRI)
    shared_inbox: Mapped[str | None] = mapped_column(IRI)
    outbox: Mapped[str | None] = mapped_column(IRI)
    followers: Mapped[str | None] = mapped_column(IRI)
    following: Mapped[str | None] = mapped_column(IRI)
    featured: Mapped[str | None] = mapped_column(IRI)
    manually_approves_followers: Mapped[bool] = mapped_column(default=False, server_default=false())
    discoverable: Mapped[bool] = mapped_column(default=True, server_default=true())
    published: Mapped[datetime]
    fetched_at: Mapped[datetime | None]

    keys: Mapped[list[ActorKey]] = relationship(
        back_populates="actor", cascade="all, delete-orphan", order_by="ActorKey.id"
    )

    @property
    def is_local(self) -> bool:
        """True for actors this node speaks for."""
        return self.kind is not ActorKind.REMOTE


class ActorKey(Base):
    """A key an actor signs with; the private half is kept only for local actors."""

    __tablename__ = "actor_keys"
    __table_args__ = (
        Index("ix_actor_keys_actor_id", "actor_id"),
        # At most one current key per actor and algorithm: the one we sign with.
        Index(
            "uq_actor_keys_current",
            "actor_id",
            "algorithm",
            unique=True,
            sqlite_where=text("is_current"),
            postgresql_where=text("is_current"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key_id: Mapped[str] = mapped_column(IRI, unique=True)
    actor_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"))
    algorithm: Mapped[KeyAlgorithm] = mapped_column(_enum(KeyAlgorithm, "key_algorithm"))
    public_pem: Mapped[str] = mapped_column(Text)
    private_pem: Mapped[str | None] = mapped_column(Text)
    created: Mapped[datetime]
    is_current: Mapped[bool] = mapped_column(default=True, server_default=true())

    actor: Mapped[Actor] = relationship(back_populates="keys")


class Member(Base):
    """A person who can log in to the node; acts in the fediverse as their Person actor."""

    __tablename__ = "members"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(30), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    role: Mapped[MemberRole] = mapped_column(_enum(MemberRole, "member_role"))
    password_hash: Mapped[str] = mapped_column(String(255))
    actor_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="RESTRICT"), unique=True)
    created: Mapped[datetime]

    actor: Mapped[Actor] = relationship()


# -- inbound federation: follows, the inbox log, moderation (revision r0003) ----------------


class FollowState(enum.StrEnum):
    """Where a follow request stands (AP §7.2: a Follow waits for Accept or Reject)."""

    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


class Follow(Base):
    """One actor following another, by IRI; at least one side is local.

    IRIs rather than foreign keys: a remote actor may leave the cache (expiry,
    Delete) while the relationship is still being undone, and the followers
    collection only needs the IRI.
    """

    __tablename__ = "follows"
    __table_args__ = (
        Index("uq_follows_pair", "follower_iri", "followed_iri", unique=True),
        Index("ix_follows_followed_state", "followed_iri", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    follower_iri: Mapped[str] = mapped_column(IRI)
    followed_iri: Mapped[str] = mapped_column(IRI)
    state: Mapped[FollowState] = mapped_column(_enum(FollowState, "follow_state"))
    # The Follow activity's id: Accept, Reject and Undo name it.
    activity_iri: Mapped[str] = mapped_column(IRI, unique=True)
    created: Mapped[datetime]
    updated: Mapped[datetime]


class InboxLog(Base):
    """Every activity the inbox took, by id: a redelivery finds its row and changes nothing.

    ``raw`` keeps the received JSON for the activities a later stage builds on
    (content: Create, Update, Delete, Like, Announce); others keep only the id.
    """

    __tablename__ = "inbox_log"
    __table_args__ = (Index("ix_inbox_log_received", "received"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_iri: Mapped[str] = mapped_column(IRI, unique=True)
    activity_type: Mapped[str] = mapped_column(String(32))
    object_type: Mapped[str | None] = mapped_column(String(32))
    actor_iri: Mapped[str] = mapped_column(IRI)
    received: Mapped[datetime]
    raw: Mapped[str | None] = mapped_column(Text)


class Report(Base):
    """A ``Flag`` received from elsewhere, kept for the co-op's moderators."""

    __tablename__ = "reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    reporter_iri: Mapped[str] = mapped_column(IRI)
    activity_iri: Mapped[str] = mapped_column(IRI, unique=True)
    object_iris: Mapped[str] = mapped_column(Text)  # JSON array of the reported IRIs
    content: Mapped[str] = mapped_column(Text, default="")
    received: Mapped[datetime]
    resolved: Mapped[bool] = mapped_column(default=False, server_default=false())


class Block(Base):
    """A remote actor blocked one of ours: nothing of that actor's is delivered to them."""

    __tablename__ = "blocks"
    __table_args__ = (Index("uq_blocks_pair", "blocker_iri", "blocked_iri", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    blocker_iri: Mapped[str] = mapped_column(IRI)
    blocked_iri: Mapped[str] = mapped_column(IRI)
    activity_iri: Mapped[str] = mapped_column(IRI, unique=True)
    created: Mapped[datetime]


class DomainBlock(Base):
    """A domain whose requests this node refuses (403, as Mastodon answers a blocked domain)."""

    __tablename__ = "domain_blocks"

    id: Mapped[int] = mapped_column(primary_key=True)
    domain: Mapped[str] = mapped_column(String(255), unique=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    created: Mapped[datetime]


# -- outbound delivery: the transactional outbox (revision r0002) ---------------------------


class DeliveryState(enum.StrEnum):
    """Where one delivery stands; only ``pending`` rows are ever sent."""

    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"  # permanently: a 4xx, or the retries ran out
    CANCELLED = "cancelled"


class OutgoingActivity(Base):
    """An activity as sent: the exact bytes every inbox receives, signed per request.

    Stored once per activity however many inboxes it goes to; ``actor_iri`` is
    the local sender whose key signs it.
    """

    __tablename__ = "outgoing_activities"
    __table_args__ = (Index("ix_outgoing_activities_iri", "iri"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    iri: Mapped[str] = mapped_column(IRI)
    actor_iri: Mapped[str] = mapped_column(IRI)
    body: Mapped[bytes] = mapped_column(LargeBinary)
    created: Mapped[datetime]


class Delivery(Base):
    """One activity to one inbox: a row the worker claims, sends and records (Takahē's Stator).

    ``locked_until`` is a lease: a worker that dies leaves its rows claimable
    again once the lease passes, so nothing is lost (a second POST is possible;
    receivers dedupe by activity id).
    """

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("activity_id", "inbox"),
        # The claim query: pending rows by due time (a partial index stays small).
        Index(
            "ix_deliveries_due",
            "next_attempt_at",
            sqlite_where=text("state = 'pending'"),
            postgresql_where=text("state = 'pending'"),
        ),
        Index("ix_deliveries_domain_state", "domain", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(
        ForeignKey("outgoing_activities.id", ondelete="CASCADE")
    )
    inbox: Mapped[str] = mapped_column(IRI)
    domain: Mapped[str] = mapped_column(String(255))
    state: Mapped[DeliveryState] = mapped_column(_enum(DeliveryState, "delivery_state"))
    attempts: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    next_attempt_at: Mapped[datetime]
    last_status: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    locked_until: Mapped[datetime | None]
    created: Mapped[datetime]
    delivered_at: Mapped[datetime | None]


class DomainHealth(Base):
    """What deliveries have learnt about one remote domain (host and port).

    A circuit breaker (Mastodon's Stoplight: open after 10 consecutive
    failures, 60 s cool-off, then one probe) and Mastodon's unavailable-domain
    state (delivery_failure_tracker.rb: failures on 7 distinct days). Also the
    signature scheme the domain accepted, for double-knocking.
    """

    __tablename__ = "domain_health"

    domain: Mapped[str] = mapped_column(String(255), primary_key=True)
    consecutive_failures: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    circuit_open_until: Mapped[datetime | None]
    failure_days: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    first_failure_day: Mapped[date | None]
    last_failure_day: Mapped[date | None]
    unavailable: Mapped[bool] = mapped_column(default=False, server_default=false())
    signature_scheme: Mapped[Scheme | None] = mapped_column(_enum(Scheme, "signature_scheme"))
