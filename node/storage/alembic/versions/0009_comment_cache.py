"""Post pages at scale: a per-post version of the comment list (web processes keep the list
rendered and re-render when the version they read with the post has moved on).

Revision ID: 0009
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("posts") as batch:
        batch.add_column(
            sa.Column("comments_version", sa.Integer(), server_default="0", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("posts") as batch:
        batch.drop_column("comments_version")
