"""The community's look: its name, logo, accent colour and header image, as an admin set them
(the about page's edit form, `conode site set`). One row; no row means the defaults
(CONODE_NAME, no pictures, the stylesheet's own colour).

Revision ID: 0018
Revises: 0015
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "site_identity",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("accent", sa.String(length=7), nullable=True),
        sa.Column("logo_id", sa.String(length=32), nullable=True),
        sa.Column("header_id", sa.String(length=32), nullable=True),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["updated_by"], ["local_actors.id"]),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("site_identity")
