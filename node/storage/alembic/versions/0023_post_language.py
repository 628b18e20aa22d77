"""The language a post was written in, and a remote reply's when its `contentMap` says
(NULL: not known).

Revision ID: 0023
Revises: 0016
"""

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMNs: posts keeps search's and the content version's SQLite triggers,
    # which a batch rebuild of the table would drop.
    op.add_column("posts", sa.Column("language", sa.String(length=16), nullable=True))
    op.add_column("notes", sa.Column("language", sa.String(length=16), nullable=True))


def downgrade() -> None:
    op.drop_column("notes", "language")
    op.drop_column("posts", "language")
