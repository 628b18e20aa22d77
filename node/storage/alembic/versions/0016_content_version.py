"""The site's content version: one row, bumped by triggers in the transaction of every write to
a table whose rows a public page shows, so whole pages kept by any number of web processes
(node/cache/pages.py) are known stale the moment such a write commits, whichever process or
command made it, and no code path can forget to say so.

On PostgreSQL the triggers are deferred to the commit: the version row is locked last,
after every other lock the transaction takes, so two transactions cannot deadlock over it
(one taken at the first write would be held while the transaction goes on to lock other rows).

The row is created by the first bump (an upsert), so a restore that loads dumped rows into
empty tables finds no row in its way. A later migration that rebuilds one of these tables on
SQLite (batch mode "recreate") drops its triggers with it and must create them again
(`sqlite_triggers()` below).

Revision ID: 0016
Revises: 0015
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0022"
branch_labels = None
depends_on = None

# What the home page, a post's page (with its offer, responses and comments) and the actors'
# and posts' ActivityPub documents show.
TABLES = (
    "posts",
    "notes",
    "reactions",
    "media",
    "offers",
    "offer_responses",
    "agreements",
    "local_actors",
    "linked_posts",
    "blocks",
    "quote_authorizations",  # the post page's "Quoted in"
)
BUMP = (
    "INSERT INTO content_versions (name, version) VALUES ('site', 1) "
    "ON CONFLICT (name) DO UPDATE SET version = content_versions.version + 1"
)
PG_FUNCTION = "conode_bump_content_version"


def sqlite_triggers() -> list[str]:
    return [
        f"CREATE TRIGGER {table}_content_{event.lower()} AFTER {event} ON {table} BEGIN {BUMP}; END"
        for table in TABLES
        for event in ("INSERT", "UPDATE", "DELETE")
    ]


def upgrade() -> None:
    op.create_table(
        "content_versions",
        sa.Column("name", sa.String(40), primary_key=True),
        sa.Column("version", sa.BigInteger(), nullable=False),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"CREATE OR REPLACE FUNCTION {PG_FUNCTION}() RETURNS trigger AS $$ "
            f"BEGIN {BUMP}; RETURN NULL; END $$ LANGUAGE plpgsql"
        )
        for table in TABLES:
            op.execute(
                f"CREATE CONSTRAINT TRIGGER {table}_content "
                f"AFTER INSERT OR UPDATE OR DELETE ON {table} DEFERRABLE INITIALLY DEFERRED "
                f"FOR EACH ROW EXECUTE FUNCTION {PG_FUNCTION}()"
            )
        return
    for statement in sqlite_triggers():
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_content ON {table}")
        op.execute(f"DROP FUNCTION IF EXISTS {PG_FUNCTION}()")
    else:
        for statement in sqlite_triggers():
            op.execute(f"DROP TRIGGER IF EXISTS {statement.split()[2]}")
    op.drop_table("content_versions")
