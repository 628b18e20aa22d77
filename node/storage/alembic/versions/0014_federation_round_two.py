"""Federation, round two: the signature scheme each host accepts (double-knocking), who may
reply to and quote each post, the quotes we allowed (FEP-044f), and the conversation (FEP-7888
`context`) each incoming reply names, when a report was forwarded, and each local actor's
Ed25519 key for FEP-8b32 proofs.

Revision ID: 0014
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "signature_schemes",
        sa.Column("host", sa.String(length=255), primary_key=True),
        sa.Column("scheme", sa.String(length=16), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    with op.batch_alter_table("posts") as batch:
        batch.add_column(
            sa.Column("reply_policy", sa.String(length=16), server_default="anyone", nullable=False)
        )
        batch.add_column(
            sa.Column(
                "quote_policy", sa.String(length=16), server_default="followers", nullable=False
            )
        )
    op.create_table(
        "quote_authorizations",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("public_id", sa.String(length=64), nullable=False),
        sa.Column("post_id", sa.Integer(), sa.ForeignKey("posts.id"), nullable=False),
        sa.Column("quote_id", sa.String(length=2048), nullable=False),
        sa.Column("actor_id", sa.String(length=2048), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("public_id"),
        sa.UniqueConstraint("post_id", "quote_id"),
    )
    op.create_index(
        "ix_quote_authorizations_post_id", "quote_authorizations", ["post_id"], unique=False
    )
    with op.batch_alter_table("notes") as batch:
        batch.add_column(sa.Column("context", sa.String(length=2048), nullable=True))
        batch.create_index("ix_notes_context", ["context"], unique=False)
    with op.batch_alter_table("reports") as batch:
        batch.add_column(sa.Column("forwarded_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("local_actors") as batch:
        batch.add_column(sa.Column("ed25519_public", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("ed25519_private_sealed", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("local_actors") as batch:
        batch.drop_column("ed25519_private_sealed")
        batch.drop_column("ed25519_public")
    with op.batch_alter_table("reports") as batch:
        batch.drop_column("forwarded_at")
    with op.batch_alter_table("notes") as batch:
        batch.drop_index("ix_notes_context")
        batch.drop_column("context")
    op.drop_index("ix_quote_authorizations_post_id", table_name="quote_authorizations")
    op.drop_table("quote_authorizations")
    with op.batch_alter_table("posts") as batch:
        batch.drop_column("quote_policy")
        batch.drop_column("reply_policy")
    op.drop_table("signature_schemes")
