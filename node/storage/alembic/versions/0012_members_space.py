"""Members' own space: profiles (bio, avatar, email address), password reset links,
notifications, the mail queue and remote people's pictures.

Revision ID: 0012
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("local_actors") as batch:
        batch.add_column(sa.Column("bio", sa.Text(), server_default="", nullable=False))
        batch.add_column(sa.Column("avatar_id", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("email", sa.String(length=320), nullable=True))
    op.create_table(
        "password_resets",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("actor_row_id", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["actor_row_id"], ["local_actors.id"]),
        sa.ForeignKeyConstraint(["created_by"], ["local_actors.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("recipient_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("actor_id", sa.String(length=2048), server_default="", nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("text", sa.String(length=500), server_default="", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("mailed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["recipient_id"], ["local_actors.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("recipient_id", "kind", "url"),
    )
    op.create_index(
        "ix_notifications_recipient_unread", "notifications", ["recipient_id", "read_at"]
    )
    op.create_table(
        "mail_jobs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("recipient", sa.String(length=320), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("body_text", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), server_default="", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_mail_jobs_due", "mail_jobs", ["status", "next_attempt_at"])
    with op.batch_alter_table("remote_actors") as batch:
        batch.add_column(sa.Column("icon_url", sa.String(length=2048), nullable=True))
    op.create_table(
        "remote_avatars",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("actor_id", sa.String(length=2048), nullable=False),
        sa.Column("source_url", sa.String(length=2048), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=True),
        sa.Column("problem", sa.String(length=200), server_default="", nullable=False),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
    )


def downgrade() -> None:
    op.drop_table("remote_avatars")
    with op.batch_alter_table("remote_actors") as batch:
        batch.drop_column("icon_url")
    op.drop_index("ix_mail_jobs_due", table_name="mail_jobs")
    op.drop_table("mail_jobs")
    op.drop_index("ix_notifications_recipient_unread", table_name="notifications")
    op.drop_table("notifications")
    op.drop_table("password_resets")
    with op.batch_alter_table("local_actors") as batch:
        batch.drop_column("email")
        batch.drop_column("avatar_id")
        batch.drop_column("bio")
