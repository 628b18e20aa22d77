"""What members keep for themselves: password reset links and notifications."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from .connection import StoreBase
from .rows import _aware, utcnow
from .schema import local_actors, notifications, password_resets

NOTIFICATION_TEXT = 500


class MemberQueries(StoreBase):
    # --- password reset links: single-use, expiring, only the token's hash kept ---

    async def insert_password_reset(
        self, token_hash: str, actor_row_id: int, created_by: int | None, expires_at: datetime
    ) -> None:
        values = {"token_hash": token_hash, "actor_row_id": actor_row_id, "created_by": created_by}
        query = password_resets.insert().values(
            expires_at=expires_at, created_at=utcnow(), **values
        )
        await self._db.execute(query)

    def _usable(self, token_hash: str) -> sa.ColumnElement[bool]:
        r = password_resets
        return sa.and_(
            r.c.token_hash == token_hash, r.c.used_at.is_(None), r.c.expires_at > utcnow()
        )

    async def usable_password_reset(self, token_hash: str) -> int | None:
        """The account the link is for, while it is unused and unexpired."""
        query = sa.select(password_resets.c.actor_row_id).where(self._usable(token_hash))
        value = await self._db.fetch_val(query)
        return int(value) if value is not None else None

    async def claim_password_reset(self, token_hash: str) -> int | None:
        """Use the link up; the account it was for, or None when it is no longer usable (the
        conditional UPDATE makes it single-use under concurrency)."""
        r = password_resets
        query = (
            r.update()
            .where(self._usable(token_hash))
            .values(used_at=utcnow())
            .returning(r.c.actor_row_id)
        )
        value = await self._db.fetch_val(query)
        return int(value) if value is not None else None

    # --- notifications ---

    async def add_notification(
        self, recipient_id: int, kind: str, url: str, *, actor_id: str = "", text: str = ""
    ) -> bool:
        """True when it is new (the same kind about the same thing is kept once)."""
        n = notifications
        values = {"recipient_id": recipient_id, "kind": kind, "url": url[:2048]}
        query = (
            self._upsert(n)
            .values(
                actor_id=actor_id[:2048],
                text=text[:NOTIFICATION_TEXT],
                created_at=utcnow(),
                **values,
            )
            .on_conflict_do_nothing(index_elements=[n.c.recipient_id, n.c.kind, n.c.url])
            .returning(n.c.id)
        )
        return await self._db.fetch_val(query) is not None

    async def has_notification(self, recipient_id: int, url: str) -> bool:
        n = notifications
        query = sa.select(sa.func.count()).where(n.c.recipient_id == recipient_id, n.c.url == url)
        return bool(await self._db.fetch_val(query))

    async def moderator_ids(self, *, admins_only: bool = False) -> list[int]:
        """Members who moderate (admins do too), or only the admins, who may sign in."""
        a = local_actors
        role = a.c.is_admin if admins_only else sa.or_(a.c.is_admin, a.c.is_moderator)
        query = sa.select(a.c.id).where(
            a.c.kind == "Person",
            role,
            a.c.suspended_at.is_(None),
            a.c.deleted_at.is_(None),
        )
        return [int(row[0]) for row in await self._db.fetch_all(query.order_by(a.c.id))]

    async def notifications_of(
        self, recipient_id: int, *, unread_only: bool = False, limit: int = 100
    ) -> list[dict[str, Any]]:
        """Newest first."""
        n = notifications
        query = sa.select(n).where(n.c.recipient_id == recipient_id)
        if unread_only:
            query = query.where(n.c.read_at.is_(None))
        query = query.order_by(n.c.id.desc()).limit(limit)
        rows = [dict(row._mapping) for row in await self._db.fetch_all(query)]
        for row in rows:
            row["created_at"] = _aware(row["created_at"])
            row["read_at"] = _aware(row["read_at"]) if row["read_at"] else None
        return rows

    async def count_unread_notifications(self, recipient_id: int) -> int:
        n = notifications
        query = sa.select(sa.func.count()).where(
            n.c.recipient_id == recipient_id, n.c.read_at.is_(None)
        )
        return int(await self._db.fetch_val(query) or 0)

    async def mark_notifications_read(self, recipient_id: int, up_to_id: int) -> None:
        n = notifications
        query = (
            n.update()
            .where(n.c.recipient_id == recipient_id, n.c.id <= up_to_id, n.c.read_at.is_(None))
            .values(read_at=utcnow())
        )
        await self._db.execute(query)
