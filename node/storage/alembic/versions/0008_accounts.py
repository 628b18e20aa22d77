"""The web interface, remaining parts: account roles, suspension and session revocation on
local actors, invitation links, and post view counts.

Revision ID: 0008
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("local_actors") as batch:
        batch.add_column(
            sa.Column("is_moderator", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch.add_column(sa.Column("suspended_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(
            sa.Column("session_generation", sa.Integer(), server_default="0", nullable=False)
        )
    op.create_table(
        "invitations",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=False),
        sa.Column("note", sa.String(length=200), server_default="", nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("used_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["created_by"], ["local_actors.id"]),
        sa.ForeignKeyConstraint(["used_by"], ["local_actors.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_table(
        "post_views",
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("views", sa.Integer(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(["post_id"], ["posts.id"]),
        sa.PrimaryKeyConstraint("post_id"),
    )


def downgrade() -> None:
    op.drop_table("post_views")
    op.drop_table("invitations")
    with op.batch_alter_table("local_actors") as batch:
        batch.drop_column("session_generation")
        batch.drop_column("deleted_at")
        batch.drop_column("suspended_at")
        batch.drop_column("is_moderator")
