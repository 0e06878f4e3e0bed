"""Inbound federation: follows, the inbox log, reports, blocks, domain blocks.

Revision ID: r0003
Revises: r0002
Create Date: 2026-11-23

Written out in full (not imported from the models) so this revision stays what
it was when later revisions change the models.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa
from alembic import op

if TYPE_CHECKING:
    from datetime import datetime

revision = "r0003"
down_revision = "r0002"
branch_labels = None
depends_on = None


def _iri(name: str, *, nullable: bool = False) -> sa.Column[str]:
    return sa.Column(name, sa.String(length=2048), nullable=nullable)


def _time(name: str) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False)


def _id(table: str) -> tuple[sa.Column[int], sa.PrimaryKeyConstraint]:
    return sa.Column("id", sa.Integer(), nullable=False), sa.PrimaryKeyConstraint(
        "id", name=f"pk_{table}"
    )


def upgrade() -> None:
    op.create_table(
        "follows",
        *_id("follows"),
        _iri("follower_iri"),
        _iri("followed_iri"),
        sa.Column(
            "state",
            sa.Enum(
                "pending",
                "accepted",
                "rejected",
                name="follow_state",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        _iri("activity_iri"),
        _time("created"),
        _time("updated"),
        sa.UniqueConstraint("activity_iri", name="uq_follows_activity_iri"),
    )
    op.create_index("uq_follows_pair", "follows", ["follower_iri", "followed_iri"], unique=True)
    op.create_index("ix_follows_followed_state", "follows", ["followed_iri", "state"])

    op.create_table(
        "inbox_log",
        *_id("inbox_log"),
        _iri("activity_iri"),
        sa.Column("activity_type", sa.String(length=32), nullable=False),
        sa.Column("object_type", sa.String(length=32), nullable=True),
        _iri("actor_iri"),
        _time("received"),
        sa.Column("raw", sa.Text(), nullable=True),
        sa.UniqueConstraint("activity_iri", name="uq_inbox_log_activity_iri"),
    )
    op.create_index("ix_inbox_log_received", "inbox_log", ["received"])

    op.create_table(
        "reports",
        *_id("reports"),
        _iri("reporter_iri"),
        _iri("activity_iri"),
        sa.Column("object_iris", sa.Text(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        _time("received"),
        sa.Column("resolved", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.UniqueConstraint("activity_iri", name="uq_reports_activity_iri"),
    )

    op.create_table(
        "blocks",
        *_id("blocks"),
        _iri("blocker_iri"),
        _iri("blocked_iri"),
        _iri("activity_iri"),
        _time("created"),
        sa.UniqueConstraint("activity_iri", name="uq_blocks_activity_iri"),
    )
    op.create_index("uq_blocks_pair", "blocks", ["blocker_iri", "blocked_iri"], unique=True)

    op.create_table(
        "domain_blocks",
        *_id("domain_blocks"),
        sa.Column("domain", sa.String(length=255), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        _time("created"),
        sa.UniqueConstraint("domain", name="uq_domain_blocks_domain"),
    )


def downgrade() -> None:
    op.drop_table("domain_blocks")
    op.drop_table("blocks")
    op.drop_table("reports")
    op.drop_table("inbox_log")
    op.drop_table("follows")
