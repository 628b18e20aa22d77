"""The port a `conode serve` listens on, in its heartbeat row, so `conode doctor` can say when
CONODE_URL names another port than the one served.

Revision ID: 0022
Revises: 0015
"""

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("heartbeats", sa.Column("port", sa.Integer, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("heartbeats") as batch:
        batch.drop_column("port")
