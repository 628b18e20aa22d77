"""Replies to posts to the Group (FEP-1b12), shown under them on the "From members elsewhere"
page.

Revision ID: 0024
Revises: 0020
"""

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "group_post_replies",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("group_post_id", sa.Integer(), sa.ForeignKey("group_posts.id"), nullable=False),
        sa.Column("object_id", sa.String(length=2048), nullable=False),
        sa.Column("author_id", sa.String(length=2048), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("object_id"),
    )
    for column in ("group_post_id", "author_id", "host"):
        op.create_index(
            f"ix_group_post_replies_{column}", "group_post_replies", [column], unique=False
        )


def downgrade() -> None:
    op.drop_table("group_post_replies")
