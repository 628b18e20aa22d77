"""Members' mail choices and mentions: which notifications a member wants by mail
(local_actors.mail_kinds, NULL for the defaults), when a moderator was last sent the hourly
digest (local_actors.mail_digest_at), and the local members a comment mentions
(notes.mentions), so they are told once it is public.

Added columns only: local_actors keeps its search triggers (no batch rebuild on SQLite).

Revision ID: 0017
Revises: 0015
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("local_actors", sa.Column("mail_kinds", sa.String(length=300), nullable=True))
    op.add_column(
        "local_actors", sa.Column("mail_digest_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column("notes", sa.Column("mentions", sa.Text(), server_default="[]", nullable=False))


def downgrade() -> None:
    op.drop_column("notes", "mentions")
    op.drop_column("local_actors", "mail_digest_at")
    op.drop_column("local_actors", "mail_kinds")
