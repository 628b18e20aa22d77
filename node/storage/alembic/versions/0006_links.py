"""Linked nodes: links between Group actors, what arrives through them, shared block decisions.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

URL = sa.String(length=2048)


def upgrade() -> None:
    op.create_table(
        "links",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("actor_id", URL, nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=500), server_default="", nullable=False),
        sa.Column("handle", sa.String(length=300), server_default="", nullable=False),
        sa.Column("inbox_url", URL, nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("our_follow_id", URL, nullable=True),
        sa.Column("their_follow_id", URL, nullable=True),
        sa.Column("trust_moderation", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("members", sa.Integer(), nullable=True),
        sa.Column("reachable", sa.Boolean(), nullable=True),
        sa.Column("last_heard_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("actor_id"),
    )
    op.create_index("ix_links_host", "links", ["host"])
    op.create_index("ix_links_state", "links", ["state"])
    op.create_table(
        "linked_posts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("object_id", URL, nullable=False),
        sa.Column("origin_actor_id", URL, nullable=False),
        sa.Column("origin_host", sa.String(length=255), nullable=False),
        sa.Column("via_actor_id", URL, nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("announced", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("object_id"),
    )
    op.create_index("ix_linked_posts_origin_actor_id", "linked_posts", ["origin_actor_id"])
    op.create_index("ix_linked_posts_origin_host", "linked_posts", ["origin_host"])
    op.create_index("ix_linked_posts_kind", "linked_posts", ["kind"])
    op.create_index("ix_linked_posts_published_at", "linked_posts", ["published_at"])
    op.create_table(
        "block_suggestions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("source_actor_id", URL, nullable=False),
        sa.Column("target", URL, nullable=False),
        sa.Column("reason", sa.Text(), server_default="", nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source_actor_id", "target"),
    )
    op.create_index("ix_block_suggestions_status", "block_suggestions", ["status"])


def downgrade() -> None:
    op.drop_table("block_suggestions")
    op.drop_table("linked_posts")
    op.drop_table("links")
