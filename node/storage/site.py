"""What the rest of the web interface keeps: post view counts, invitation links, account roles
and suspension, and the offers board as people browse it (by kind, category and state)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from .connection import StoreBase
from .listing import board_query
from .rows import OfferRow, PostRow, _aware, _post_and_offer, utcnow
from .schema import (
    content_versions,
    invitations,
    ledger_entries,
    local_actors,
    offers,
    post_views,
    posts,
)

VIEW_ROWS = 500  # posts per statement, under both databases' bind-parameter limits


class SiteQueries(StoreBase):
    # --- the site's content version: what whole cached pages are good for ---

    async def content_version(self) -> int:
        """Bumped by triggers on every write to what a public page shows (migration 0016);
        0 before the first such write."""
        c = content_versions
        query = sa.select(c.c.version).where(c.c.name == "site")
        return int(await self._db.fetch_val(query) or 0)

    # --- view counts: added in batches (node/cache/views.py), no personal data ---

    async def add_views(self, counts: dict[int, int]) -> None:
        """Add views counted by a process to the stored counts, in one statement per
        VIEW_ROWS posts; what other processes added stays (the addition happens in SQL)."""
        v = post_views
        items = list(counts.items())
        async with self.transaction():
            for start in range(0, len(items), VIEW_ROWS):
                rows = [{"post_id": p, "views": n} for p, n in items[start : start + VIEW_ROWS]]
                insert = self._upsert(v).values(rows)
                added = {"views": v.c.views + insert.excluded.views}
                await self._db.execute(
                    insert.on_conflict_do_update(index_elements=[v.c.post_id], set_=added)
                )

    async def views_of(self, post_id: int) -> int:
        query = sa.select(post_views.c.views).where(post_views.c.post_id == post_id)
        return int(await self._db.fetch_val(query) or 0)

    # --- invitations ---

    async def insert_invitation(
        self, token_hash: str, created_by: int, expires_at: datetime, note: str
    ) -> None:
        values = {"token_hash": token_hash, "created_by": created_by, "note": note[:200]}
        await self._db.execute(
            invitations.insert().values(expires_at=expires_at, created_at=utcnow(), **values)
        )

    async def usable_invitation(self, token_hash: str) -> dict[str, Any] | None:
        i = invitations
        query = sa.select(i).where(
            i.c.token_hash == token_hash, i.c.used_at.is_(None), i.c.expires_at > utcnow()
        )
        row = await self._db.fetch_one(query)
        return dict(row._mapping) if row else None

    async def claim_invitation(self, token_hash: str, used_by: int) -> bool:
        """Mark it used by `used_by`, if still usable; False when someone else got there first
        (the conditional UPDATE is what makes it single-use under concurrency)."""
        i = invitations
        query = (
            i.update()
            .where(i.c.token_hash == token_hash, i.c.used_at.is_(None), i.c.expires_at > utcnow())
            .values(used_at=utcnow(), used_by=used_by)
            .returning(i.c.id)
        )
        return await self._db.fetch_val(query) is not None

    async def invitations(self, limit: int = 100) -> list[dict[str, Any]]:
        i, who = invitations, local_actors
        query = (
            sa.select(i, who.c.username.label("used_by_name"))
            .outerjoin(who, who.c.id == i.c.used_by)
            .order_by(i.c.id.desc())
            .limit(limit)
        )
        rows = [dict(row._mapping) for row in await self._db.fetch_all(query)]
        for row in rows:
            for name in ("expires_at", "used_at", "created_at"):
                row[name] = _aware(row[name]) if row[name] else None
        return rows

    # --- accounts ---

    async def update_account(self, actor_row_id: int, **values: Any) -> None:
        a = local_actors
        await self._db.execute(a.update().where(a.c.id == actor_row_id).values(**values))

    async def revoke_sessions(self, actor_row_id: int) -> None:
        """Every cookie issued before this stops working (sessions carry the generation)."""
        a = local_actors
        query = (
            a.update()
            .where(a.c.id == actor_row_id)
            .values(session_generation=a.c.session_generation + 1)
        )
        await self._db.execute(query)

    # --- the offers board as a page ---

    async def offers_listing(
        self, *, kind: str | None, category: str | None, state: str | None, limit: int = 100
    ) -> list[tuple[PostRow, OfferRow]]:
        """Newest first; `state` is "open", "closed" (any other status) or None (all)."""
        query = board_query(kind=kind, category=category, state=state)
        query = query.order_by(posts.c.published_at.desc(), posts.c.id.desc()).limit(limit)
        return [_post_and_offer(row) for row in await self._db.fetch_all(query)]

    async def count_open_offers(self) -> int:
        o, p = offers, posts
        query = (
            sa.select(sa.func.count())
            .select_from(o.join(p, o.c.post_id == p.c.id))
            .where(p.c.deleted_at.is_(None), o.c.status == "open")
        )
        return int(await self._db.fetch_val(query) or 0)

    # --- the pictures: open offers by category, hours exchanged by month ---

    async def open_offers_by_category(self) -> list[tuple[str | None, str, int]]:
        """(category, kind, how many) of the open offers and requests not deleted."""
        o, p = offers, posts
        query = (
            sa.select(o.c.category, p.c.kind, sa.func.count())
            .select_from(o.join(p, o.c.post_id == p.c.id))
            .where(p.c.deleted_at.is_(None), o.c.status == "open")
            .group_by(o.c.category, p.c.kind)
        )
        return [(row[0], str(row[1]), int(row[2])) for row in await self._db.fetch_all(query)]

    async def hours_given_since(self, since: datetime) -> list[tuple[datetime, int]]:
        """(when, minutes) of each completed exchange since then, counted once (the giver's
        side of the ledger)."""
        e = ledger_entries
        query = (
            sa.select(e.c.created_at, e.c.minutes)
            .where(e.c.minutes > 0, e.c.created_at >= since)
            .order_by(e.c.id)
        )
        return [(_aware(row[0]), int(row[1])) for row in await self._db.fetch_all(query)]
