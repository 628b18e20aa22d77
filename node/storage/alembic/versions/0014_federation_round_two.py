"""Federation, round two: the signature scheme each host accepts (double-knocking).

Revision ID: 0014
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "signature_schemes",
        sa.Column("host", sa.String(length=255), primary_key=True),
        sa.Column("scheme", sa.String(length=16), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("signature_schemes")
