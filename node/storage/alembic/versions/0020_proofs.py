"""Incoming object integrity proofs (FEP-8b32): each remote actor's Ed25519 assertion keys
(FEP-521a Multikeys, so a proof verifies while its author's server is down), and the signed copy
of what a linked node shared (passed on with its author's proof intact). Posts addressed to our
Group from elsewhere (FEP-1b12), held or announced.

Revision ID: 0020
Revises: 0015
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("remote_actors", sa.Column("assertion_keys", sa.Text(), nullable=True))
    op.add_column("linked_posts", sa.Column("signed_document", sa.Text(), nullable=True))
    op.create_table(
        "group_posts",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("object_id", sa.String(length=2048), nullable=False),
        sa.Column("author_id", sa.String(length=2048), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("announced_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("object_id"),
    )
    for column in ("author_id", "host", "status"):
        op.create_index(f"ix_group_posts_{column}", "group_posts", [column], unique=False)


def downgrade() -> None:
    op.drop_table("group_posts")
    with op.batch_alter_table("linked_posts") as batch:
        batch.drop_column("signed_document")
    with op.batch_alter_table("remote_actors") as batch:
        batch.drop_column("assertion_keys")
