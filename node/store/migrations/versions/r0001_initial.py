"""Initial schema: actors (local and remote), their keys, and members.

Revision ID: 0001
Revises:
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

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=16)


def _iri(name: str, *, nullable: bool) -> sa.Column[str]:
    return sa.Column(name, sa.String(length=2048), nullable=nullable)


def _time(name: str, *, nullable: bool) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "actors",
        sa.Column("id", sa.Integer(), nullable=False),
        _iri("iri", nullable=False),
        sa.Column(
            "kind", _enum("actor_kind", "coop", "member", "application", "remote"), nullable=False
        ),
        sa.Column("ap_type", sa.String(length=32), nullable=False),
        sa.Column("handle", sa.String(length=255), nullable=False),
        sa.Column("domain", sa.String(length=255), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        _iri("url", nullable=True),
        _iri("inbox", nullable=False),
        _iri("shared_inbox", nullable=True),
        _iri("outbox", nullable=True),
        _iri("followers", nullable=True),
        _iri("following", nullable=True),
        _iri("featured", nullable=True),
        sa.Column(
            "manually_approves_followers", sa.Boolean(), server_default=sa.false(), nullable=False
        ),
        sa.Column("discoverable", sa.Boolean(), server_default=sa.true(), nullable=False),
        _time("published", nullable=False),
        _time("fetched_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_actors"),
        sa.UniqueConstraint("iri", name="uq_actors_iri"),
    )
    op.create_index("ix_actors_domain_handle", "actors", ["domain", "handle"])
    op.create_index(
        "uq_actors_local_handle",
        "actors",
        ["handle"],
        unique=True,
        sqlite_where=sa.text("kind != 'remote'"),
        postgresql_where=sa.text("kind != 'remote'"),
    )
    op.create_table(
        "actor_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        _iri("key_id", nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=False),
        sa.Column("algorithm", _enum("key_algorithm", "rsa", "ed25519"), nullable=False),
        sa.Column("public_pem", sa.Text(), nullable=False),
        sa.Column("private_pem", sa.Text(), nullable=True),
        _time("created", nullable=False),
        sa.Column("is_current", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["actors.id"],
            name="fk_actor_keys_actor_id_actors",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_actor_keys"),
        sa.UniqueConstraint("key_id", name="uq_actor_keys_key_id"),
    )
    op.create_index("ix_actor_keys_actor_id", "actor_keys", ["actor_id"])
    op.create_index(
        "uq_actor_keys_current",
        "actor_keys",
        ["actor_id", "algorithm"],
        unique=True,
        sqlite_where=sa.text("is_current"),
        postgresql_where=sa.text("is_current"),
    )
    op.create_table(
        "members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=30), nullable=False),
        sa.Column("display_name", sa.String(length=100), nullable=False),
        sa.Column("role", _enum("member_role", "admin", "editor", "member"), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=False),
        _time("created", nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["actors.id"],
            name="fk_members_actor_id_actors",
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_members"),
        sa.UniqueConstraint("actor_id", name="uq_members_actor_id"),
        sa.UniqueConstraint("username", name="uq_members_username"),
    )


def downgrade() -> None:
    op.drop_table("members")
    op.drop_table("actor_keys")
    op.drop_table("actors")
