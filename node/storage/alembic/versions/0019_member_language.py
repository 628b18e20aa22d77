"""A member's language for the web interface (NULL: not chosen; the lang cookie, the browser's
Accept-Language or CONODE_LANGUAGE decide).

Revision ID: 0019
Revises: 0015
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN: local_actors keeps search's SQLite triggers (0015), which a batch
    # rebuild of the table would drop.
    op.add_column("local_actors", sa.Column("language", sa.String(length=16), nullable=True))


def downgrade() -> None:
    op.drop_column("local_actors", "language")
