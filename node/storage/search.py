"""Full-text search over the index migration 0015 keeps by triggers: posts, offers and
requests (title, summary, body, category, place), members, and what came through links; best
match first. SQLite reads FTS5 (bm25), PostgreSQL tsvector with GIN (ts_rank).

Terms arrive here already reduced to letters and digits (node/content/search.py), and are
passed as bound parameters in any case."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from .connection import StoreBase, is_sqlite
from .links import LinkedPostRow
from .rows import LocalActorRow, PostRow, _from_row, _local_actor, _post
from .schema import linked_posts, local_actors, posts

RESULTS = 50  # per kind of thing found
# bm25 column weights (title, summary, body, category, place), like PostgreSQL's A/B/C
POST_WEIGHTS = (10.0, 4.0, 1.0, 4.0, 4.0)
MEMBER_WEIGHTS = (10.0, 10.0, 1.0)
LINKED_WEIGHTS = (10.0, 4.0, 1.0)


def _index(name: str, sqlite: bool) -> sa.TableClause:
    return sa.table(name, sa.column("rowid" if sqlite else "id"), sa.column("document"))


class SearchQueries(StoreBase):
    def _matching(
        self, index_name: str, key: Any, terms: list[str], weights: tuple[float, ...]
    ) -> tuple[sa.TableClause, sa.ColumnElement[bool], Any]:
        """The index, its join condition with `key`, and (where, rank) for the terms."""
        sqlite = is_sqlite(self.url)
        index = _index(index_name, sqlite)
        if sqlite:
            query = " ".join(f'"{term}"*' for term in terms)  # every term, as a prefix
            where = sa.literal_column(index_name).op("MATCH")(query)
            bm25 = sa.func.bm25(sa.literal_column(index_name), *weights)  # lower is better
            return index, sa.and_(index.c.rowid == key, where), bm25
        tsquery = sa.func.to_tsquery("simple", " & ".join(f"{term}:*" for term in terms))
        where = index.c.document.op("@@")(tsquery)
        rank = -sa.func.ts_rank(index.c.document, tsquery)
        return index, sa.and_(index.c.id == key, where), rank

    async def search_posts(self, terms: list[str], *, kinds: tuple[str, ...]) -> list[PostRow]:
        """Our posts of these kinds that hold every term, best match first."""
        index, condition, rank = self._matching("search_posts", posts.c.id, terms, POST_WEIGHTS)
        query = (
            sa.select(posts)
            .select_from(posts.join(index, condition))
            .where(posts.c.deleted_at.is_(None), posts.c.kind.in_(kinds))
            .order_by(rank, posts.c.published_at.desc())
            .limit(RESULTS)
        )
        return [_post(row) for row in await self._db.fetch_all(query)]

    async def search_members(self, terms: list[str]) -> list[LocalActorRow]:
        la = local_actors
        index, condition, rank = self._matching("search_members", la.c.id, terms, MEMBER_WEIGHTS)
        query = (
            sa.select(la)
            .select_from(la.join(index, condition))
            .where(la.c.kind == "Person", la.c.deleted_at.is_(None), la.c.suspended_at.is_(None))
            .order_by(rank, la.c.id)
            .limit(RESULTS)
        )
        return [_local_actor(row) for row in await self._db.fetch_all(query)]

    async def search_linked(
        self, terms: list[str], *, kinds: tuple[str, ...]
    ) -> list[LinkedPostRow]:
        """What came through links, of these kinds (post, offer, request), best match first."""
        lp = linked_posts
        index, condition, rank = self._matching("search_linked", lp.c.id, terms, LINKED_WEIGHTS)
        query = (
            sa.select(lp)
            .select_from(lp.join(index, condition))
            .where(lp.c.deleted_at.is_(None), lp.c.kind.in_(kinds))
            .order_by(rank, lp.c.published_at.desc())
            .limit(RESULTS)
        )
        found = await self._db.fetch_all(query)
        return [_from_row(LinkedPostRow, row, booleans=("announced",)) for row in found]
