"""Moving (issue 18 part 6): each local actor's `alsoKnownAs` (the accounts elsewhere it says it
also is, a JSON list of actor ids), and where and when it moved (`movedTo`).

Revision ID: 0021
Revises: 0015
"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN: local_actors carries search's triggers on SQLite, so it is not rebuilt.
    op.add_column(
        "local_actors", sa.Column("also_known_as", sa.Text(), server_default="[]", nullable=False)
    )
    op.add_column("local_actors", sa.Column("moved_to", sa.String(length=2048), nullable=True))
    op.add_column("local_actors", sa.Column("moved_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    # ALTER TABLE DROP COLUMN (SQLite 3.35+), again without rebuilding the table
    for column in ("moved_at", "moved_to", "also_known_as"):
        op.drop_column("local_actors", column)
