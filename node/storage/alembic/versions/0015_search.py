"""Search, and the accounts a post mentions (posts.mentions, its `Mention` tags).

Search: a full-text index of posts (with their offers' category and place), members and
what came through links, kept by triggers in the transaction of every write, so no code path
can forget it. SQLite: FTS5 tables whose rowid is the row's id; PostgreSQL: tsvector tables
with GIN indexes. Only what may be shown is indexed: posts not deleted, people neither deleted
nor suspended, linked posts not deleted (only public ones are ever kept). node/storage/search.py
reads them; the tables are not in schema.py (dialect-specific, written only by these triggers).

A later migration that rebuilds one of these tables on SQLite (batch mode "recreate") drops its
triggers with it and must create them again (`sqlite_triggers()` below).

Revision ID: 0015
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

TOKENIZE = "tokenize = 'unicode61 remove_diacritics 2'"
PERSON = "{0}.kind = 'Person' AND {0}.deleted_at IS NULL AND {0}.suspended_at IS NULL"

SQLITE_TABLES = (
    "CREATE VIRTUAL TABLE search_posts USING "
    f"fts5(title, summary, body, category, place, {TOKENIZE})",
    f"CREATE VIRTUAL TABLE search_members USING fts5(name, username, about, {TOKENIZE})",
    f"CREATE VIRTUAL TABLE search_linked USING fts5(title, summary, body, {TOKENIZE})",
)

_POST_ROW = """INSERT INTO search_posts(rowid, title, summary, body, category, place)
  SELECT p.id, p.title, p.summary, p.source, coalesce(o.category, ''), coalesce(o.place, '')
  FROM posts p LEFT JOIN offers o ON o.post_id = p.id
  WHERE p.id = {id} AND p.deleted_at IS NULL"""
_MEMBER_ROW = f"""INSERT INTO search_members(rowid, name, username, about)
  SELECT a.id, a.display_name, a.username, a.summary FROM local_actors a
  WHERE a.id = {{id}} AND {PERSON.format("a")}"""
_LINKED_ROW = """INSERT INTO search_linked(rowid, title, summary, body)
  SELECT l.id, coalesce(json_extract(l.document, '$.name'), ''),
    coalesce(json_extract(l.document, '$.summary'), ''),
    coalesce(json_extract(l.document, '$.content'), '')
  FROM linked_posts l WHERE l.id = {id} AND l.deleted_at IS NULL"""


def _refresh(name: str, table: str, fts: str, row: str, id_: str, when: str = "") -> str:
    return (
        f"CREATE TRIGGER {name} AFTER {when or 'INSERT'} ON {table} BEGIN "
        f"DELETE FROM {fts} WHERE rowid = {id_}; {row.format(id=id_)}; END"
    )


def sqlite_triggers() -> list[str]:
    cols = {
        "posts": "title, summary, source, deleted_at",
        "offers": "category, place",
        "local_actors": "kind, display_name, username, summary, deleted_at, suspended_at",
        "linked_posts": "document, deleted_at",
    }
    return [
        _refresh("posts_search_insert", "posts", "search_posts", _POST_ROW, "NEW.id"),
        _refresh(
            "posts_search_update",
            "posts",
            "search_posts",
            _POST_ROW,
            "NEW.id",
            f"UPDATE OF {cols['posts']}",
        ),
        "CREATE TRIGGER posts_search_delete AFTER DELETE ON posts BEGIN "
        "DELETE FROM search_posts WHERE rowid = OLD.id; END",
        _refresh("offers_search_insert", "offers", "search_posts", _POST_ROW, "NEW.post_id"),
        _refresh(
            "offers_search_update",
            "offers",
            "search_posts",
            _POST_ROW,
            "NEW.post_id",
            f"UPDATE OF {cols['offers']}",
        ),
        _refresh("members_search_insert", "local_actors", "search_members", _MEMBER_ROW, "NEW.id"),
        _refresh(
            "members_search_update",
            "local_actors",
            "search_members",
            _MEMBER_ROW,
            "NEW.id",
            f"UPDATE OF {cols['local_actors']}",
        ),
        "CREATE TRIGGER members_search_delete AFTER DELETE ON local_actors BEGIN "
        "DELETE FROM search_members WHERE rowid = OLD.id; END",
        _refresh("linked_search_insert", "linked_posts", "search_linked", _LINKED_ROW, "NEW.id"),
        _refresh(
            "linked_search_update",
            "linked_posts",
            "search_linked",
            _LINKED_ROW,
            "NEW.id",
            f"UPDATE OF {cols['linked_posts']}",
        ),
        "CREATE TRIGGER linked_search_delete AFTER DELETE ON linked_posts BEGIN "
        "DELETE FROM search_linked WHERE rowid = OLD.id; END",
    ]


SQLITE_FILL = (
    _POST_ROW.replace("p.id = {id} AND ", ""),
    _MEMBER_ROW.replace("a.id = {id} AND ", ""),
    _LINKED_ROW.replace("l.id = {id} AND ", ""),
)

# --- PostgreSQL: one function per index builds a row's tsvector; triggers call it ---------

_WEIGHTED = "setweight(to_tsvector('simple', coalesce({0}, '')), '{1}')"
PG_SOURCES = {
    # index table: (the table it indexes, the row's tsvector, FROM, which rows are shown)
    "search_posts": (
        "posts",
        " || ".join(
            _WEIGHTED.format(*pair)
            for pair in (
                ("p.title", "A"),
                ("p.summary", "B"),
                ("p.source", "C"),
                ("o.category", "B"),
                ("o.place", "B"),
            )
        ),
        "posts p LEFT JOIN offers o ON o.post_id = p.id",
        "p.id = target AND p.deleted_at IS NULL",
    ),
    "search_members": (
        "local_actors",
        " || ".join(
            _WEIGHTED.format(*pair)
            for pair in (("a.display_name", "A"), ("a.username", "A"), ("a.summary", "C"))
        ),
        "local_actors a",
        f"a.id = target AND {PERSON.format('a')}",
    ),
    "search_linked": (
        "linked_posts",
        " || ".join(
            _WEIGHTED.format(*pair)
            for pair in (
                ("l.document::json->>'name'", "A"),
                ("l.document::json->>'summary'", "B"),
                ("l.document::json->>'content'", "C"),
            )
        ),
        "linked_posts l",
        "l.id = target AND l.deleted_at IS NULL",
    ),
}
PG_TRIGGERS = (
    # trigger, table, columns an update must touch, the row id to refresh
    ("posts_search", "posts", "title, summary, source, deleted_at", "id", "search_posts"),
    ("offers_search", "offers", "category, place", "post_id", "search_posts"),
    (
        "members_search",
        "local_actors",
        "kind, display_name, username, summary, deleted_at, suspended_at",
        "id",
        "search_members",
    ),
    ("linked_search", "linked_posts", "document, deleted_at", "id", "search_linked"),
)


def _postgresql_upgrade() -> None:
    for table, (source, vector, from_, condition) in PG_SOURCES.items():
        op.execute(
            f"CREATE TABLE {table} (id integer PRIMARY KEY "
            f"REFERENCES {source}(id) ON DELETE CASCADE, document tsvector NOT NULL)"
        )
        op.execute(f"CREATE INDEX ix_{table}_document ON {table} USING gin (document)")
        op.execute(
            f"CREATE FUNCTION {table}_refresh(target integer) RETURNS void AS $$ BEGIN "
            f"DELETE FROM {table} WHERE id = target; "
            f"INSERT INTO {table} (id, document) SELECT target, {vector} FROM {from_} "
            f"WHERE {condition}; END $$ LANGUAGE plpgsql"
        )
    for name, table, columns, key, index in PG_TRIGGERS:
        op.execute(
            f"CREATE FUNCTION {name}_row() RETURNS trigger AS $$ BEGIN "
            f"PERFORM {index}_refresh(NEW.{key}); RETURN NULL; END $$ LANGUAGE plpgsql"
        )
        op.execute(
            f"CREATE TRIGGER {name} AFTER INSERT OR UPDATE OF {columns} ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {name}_row()"
        )
    for table, (source, *_) in PG_SOURCES.items():
        op.execute(f"SELECT {table}_refresh(id) FROM {source}")


def _postgresql_downgrade() -> None:
    for name, table, *_ in PG_TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
        op.execute(f"DROP FUNCTION IF EXISTS {name}_row()")
    for table in PG_SOURCES:
        op.execute(f"DROP FUNCTION IF EXISTS {table}_refresh(integer)")
        op.execute(f"DROP TABLE IF EXISTS {table}")


def upgrade() -> None:
    op.add_column("posts", sa.Column("mentions", sa.Text(), server_default="[]", nullable=False))
    if op.get_bind().dialect.name == "postgresql":
        _postgresql_upgrade()
        return
    for statement in (*SQLITE_TABLES, *sqlite_triggers(), *SQLITE_FILL):
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _postgresql_downgrade()
    else:
        for statement in sqlite_triggers():
            op.execute(f"DROP TRIGGER IF EXISTS {statement.split()[2]}")
        for table in ("search_posts", "search_members", "search_linked"):
            op.execute(f"DROP TABLE IF EXISTS {table}")
    with op.batch_alter_table("posts") as batch:
        batch.drop_column("mentions")
