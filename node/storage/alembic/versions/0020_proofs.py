"""Incoming object integrity proofs (FEP-8b32): each remote actor's Ed25519 assertion keys
(FEP-521a Multikeys, so a proof verifies while its author's server is down), and the signed copy
of what a linked node shared (passed on with its author's proof intact).

Revision ID: 0020
Revises: 0015
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("remote_actors", sa.Column("assertion_keys", sa.Text(), nullable=True))
    op.add_column("linked_posts", sa.Column("signed_document", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("linked_posts") as batch:
        batch.drop_column("signed_document")
    with op.batch_alter_table("remote_actors") as batch:
        batch.drop_column("assertion_keys")
