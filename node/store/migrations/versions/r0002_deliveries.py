"""Outbound delivery: outgoing activities, one delivery row per inbox, domain health.

Revision ID: r0002
Revises: 0001
Create Date: 2026-11-24

Written out in full (not imported from the models) so this revision stays what
it was when later revisions change the models.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa
from alembic import op

if TYPE_CHECKING:
    from datetime import datetime

revision = "r0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=16)


def _iri(name: str) -> sa.Column[str]:
    return sa.Column(name, sa.String(length=2048), nullable=False)


def _time(name: str, *, nullable: bool) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _count(name: str) -> sa.Column[int]:
    return sa.Column(name, sa.Integer(), server_default=sa.text("0"), nullable=False)


def upgrade() -> None:
    op.create_table(
        "outgoing_activities",
        sa.Column("id", sa.Integer(), nullable=False),
        _iri("iri"),
        _iri("actor_iri"),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        _time("created", nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_outgoing_activities"),
    )
    op.create_index("ix_outgoing_activities_iri", "outgoing_activities", ["iri"])
    op.create_table(
        "deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("activity_id", sa.Integer(), nullable=False),
        _iri("inbox"),
        sa.Column("domain", sa.String(length=255), nullable=False),
        sa.Column(
            "state",
            _enum("delivery_state", "pending", "delivered", "failed", "cancelled"),
            nullable=False,
        ),
        _count("attempts"),
        _time("next_attempt_at", nullable=False),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        _time("locked_until", nullable=True),
        _time("created", nullable=False),
        _time("delivered_at", nullable=True),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["outgoing_activities.id"],
            name="fk_deliveries_activity_id_outgoing_activities",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_deliveries"),
        sa.UniqueConstraint("activity_id", "inbox", name="uq_deliveries_activity_id"),
    )
    op.create_index(
        "ix_deliveries_due",
        "deliveries",
        ["next_attempt_at"],
        sqlite_where=sa.text("state = 'pending'"),
        postgresql_where=sa.text("state = 'pending'"),
    )
    op.create_index("ix_deliveries_domain_state", "deliveries", ["domain", "state"])
    op.create_table(
        "domain_health",
        sa.Column("domain", sa.String(length=255), nullable=False),
        _count("consecutive_failures"),
        _time("circuit_open_until", nullable=True),
        _count("failure_days"),
        sa.Column("first_failure_day", sa.Date(), nullable=True),
        sa.Column("last_failure_day", sa.Date(), nullable=True),
        sa.Column("unavailable", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column(
            "signature_scheme", _enum("signature_scheme", "draft-cavage", "rfc9421"), nullable=True
        ),
        sa.PrimaryKeyConstraint("domain", name="pk_domain_health"),
    )


def downgrade() -> None:
    op.drop_table("domain_health")
    op.drop_index("ix_deliveries_domain_state", table_name="deliveries")
    op.drop_index("ix_deliveries_due", table_name="deliveries")
    op.drop_table("deliveries")
    op.drop_index("ix_outgoing_activities_iri", table_name="outgoing_activities")
    op.drop_table("outgoing_activities")
