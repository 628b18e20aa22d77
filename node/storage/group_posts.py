"""Posts addressed to our Group from other servers (FEP-1b12): held, announced, or refused
(node/network/group_posts.py decides)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from .connection import StoreBase
from .keyset import Page, Window, by_moment, paged, windowed
from .rows import _from_row, utcnow
from .schema import blocks, group_post_replies, group_posts


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


@dataclass(frozen=True)
class GroupPostReplyRow:
    id: int
    group_post_id: int
    object_id: str
    author_id: str
    host: str
    document: str
    published_at: datetime
    created_at: datetime


def _not_blocked(author: Any, host: Any) -> sa.ColumnElement[bool]:
    """Neither the author nor their server is on the block list: the actor id itself, the host,
    a parent domain of it, or the host:port in the author's id (as node/moderation/rules.py)."""
    target = blocks.c.target
    blocked = sa.or_(
        target == author,
        target == host,
        host.like(sa.literal("%.") + target),
        author.like(sa.literal("%://") + target + sa.literal("/%")),
    )
    return ~sa.exists().where(blocked)


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

    async def shown_group_posts_page(self, window: Window) -> Page[GroupPostRow]:
        """Approved posts to the group whose author and server are not blocked, newest first."""
        g = group_posts
        query = sa.select(g).where(g.c.status == "approved", _not_blocked(g.c.author_id, g.c.host))
        query = windowed(query, window, id_column=g.c.id, moment_column=g.c.published_at)
        rows = [_from_row(GroupPostRow, row) for row in await self._db.fetch_all(query)]
        return paged(rows, window, lambda row: by_moment(row.published_at, row.id))

    async def add_group_post_reply(self, **values: Any) -> bool:
        """Keep a reply to a post to the group; False when that object is already kept."""
        r = group_post_replies
        if await self._db.fetch_val(sa.select(r.c.id).where(r.c.object_id == values["object_id"])):
            return False
        await self._db.execute(r.insert().values(created_at=utcnow(), **values))
        return True

    async def group_post_replies(self, post_ids: list[int]) -> list[GroupPostReplyRow]:
        """The shown replies to these posts (authors not blocked), oldest first."""
        if not post_ids:
            return []
        r = group_post_replies
        query = sa.select(r).where(
            r.c.group_post_id.in_(post_ids), _not_blocked(r.c.author_id, r.c.host)
        )
        rows = await self._db.fetch_all(query.order_by(r.c.published_at, r.c.id))
        return [_from_row(GroupPostReplyRow, row) for row in rows]

    async def delete_group_post_reply(self, object_id: str, author_id: str) -> bool:
        """Forget a reply its author deleted; False when there was none of theirs."""
        r = group_post_replies
        condition = sa.and_(r.c.object_id == object_id, r.c.author_id == author_id)
        if await self._db.fetch_val(sa.select(r.c.id).where(condition)) is None:
            return False
        await self._db.execute(r.delete().where(condition))
        return True
