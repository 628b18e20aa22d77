"""Posts addressed to our Group from other servers (FEP-1b12): held, announced, or refused
(node/network/group_posts.py decides)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from .connection import StoreBase
from .rows import _from_row, utcnow
from .schema import group_posts


@dataclass(frozen=True)
class GroupPostRow:
    id: int
    object_id: str
    author_id: str
    host: str
    document: str
    status: str  # pending | approved | rejected | deleted
    published_at: datetime
    announced_at: datetime | None
    created_at: datetime


class GroupPostQueries(StoreBase):
    async def add_group_post(self, **values: Any) -> GroupPostRow | None:
        """Store a post to the group; None when that object is already stored."""
        condition = group_posts.c.object_id == values["object_id"]
        if await self._db.fetch_val(sa.select(group_posts.c.id).where(condition)) is not None:
            return None
        await self._db.execute(group_posts.insert().values(created_at=utcnow(), **values))
        return await self.group_post(values["object_id"])

    async def group_post(self, object_id: str) -> GroupPostRow | None:
        query = sa.select(group_posts).where(group_posts.c.object_id == object_id)
        row = await self._db.fetch_one(query)
        return _from_row(GroupPostRow, row) if row else None

    async def group_post_by_id(self, post_id: int) -> GroupPostRow | None:
        row = await self._db.fetch_one(sa.select(group_posts).where(group_posts.c.id == post_id))
        return _from_row(GroupPostRow, row) if row else None

    async def group_posts(
        self, status: str | None = None, *, limit: int = 200
    ) -> list[GroupPostRow]:
        query = sa.select(group_posts)
        if status is not None:
            query = query.where(group_posts.c.status == status)
        query = query.order_by(group_posts.c.published_at.desc(), group_posts.c.id.desc())
        rows = await self._db.fetch_all(query.limit(limit))
        return [_from_row(GroupPostRow, row) for row in rows]

    async def set_group_post(self, post_id: int, **values: Any) -> None:
        await self._db.execute(
            group_posts.update().where(group_posts.c.id == post_id).values(**values)
        )
