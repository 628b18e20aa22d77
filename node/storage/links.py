"""Linked nodes: the links themselves, what arrived through them, and shared block decisions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from .connection import StoreBase
from .rows import _from_row, utcnow
from .schema import block_suggestions, linked_posts, links


@dataclass(frozen=True)
class LinkRow:
    id: int
    actor_id: str
    host: str
    name: str
    handle: str
    inbox_url: str
    state: str  # requested | pending | linked
    our_follow_id: str | None
    their_follow_id: str | None
    trust_moderation: bool
    members: int | None
    reachable: bool | None
    last_heard_at: datetime | None
    checked_at: datetime | None
    created_at: datetime


@dataclass(frozen=True)
class LinkedPostRow:
    id: int
    object_id: str
    origin_actor_id: str
    origin_host: str
    via_actor_id: str
    type: str
    kind: str
    document: str
    announced: bool
    published_at: datetime
    received_at: datetime
    deleted_at: datetime | None
    signed_document: str | None = None  # as its author signed it (FEP-8b32)


def _link(row: Any) -> LinkRow:
    link: LinkRow = _from_row(LinkRow, row, booleans=("trust_moderation",))
    if link.reachable is not None:
        object.__setattr__(link, "reachable", bool(link.reachable))
    return link


class LinkQueries(StoreBase):
    # --- links ---

    async def link(self, link_id: int) -> LinkRow | None:
        row = await self._db.fetch_one(sa.select(links).where(links.c.id == link_id))
        return _link(row) if row else None

    async def link_of_actor(self, actor_id: str) -> LinkRow | None:
        row = await self._db.fetch_one(sa.select(links).where(links.c.actor_id == actor_id))
        return _link(row) if row else None

    async def links(self, state: str | None = None) -> list[LinkRow]:
        query = sa.select(links).order_by(links.c.id)
        if state is not None:
            query = query.where(links.c.state == state)
        return [_link(row) for row in await self._db.fetch_all(query)]

    async def save_link(self, actor_id: str, **values: Any) -> LinkRow:
        """Insert the link to `actor_id`, or update the columns given; returns it."""
        existing = await self.link_of_actor(actor_id)
        if existing is None:
            await self._db.execute(
                links.insert().values(actor_id=actor_id, created_at=utcnow(), **values)
            )
        elif values:
            await self._db.execute(
                links.update().where(links.c.actor_id == actor_id).values(**values)
            )
        saved = await self.link_of_actor(actor_id)
        assert saved is not None
        return saved

    async def delete_link(self, link_id: int) -> None:
        await self._db.execute(links.delete().where(links.c.id == link_id))

    async def linked_hosts(self) -> set[str]:
        query = sa.select(links.c.host).where(links.c.state == "linked")
        return {str(row[0]) for row in await self._db.fetch_all(query)}

    # --- what arrived through links ---

    async def upsert_linked_post(self, **values: Any) -> bool:
        """Store a post that came through a link; True when it is new (else it is replaced)."""
        object_id = values["object_id"]
        condition = linked_posts.c.object_id == object_id
        existing = await self._db.fetch_val(sa.select(linked_posts.c.id).where(condition))
        if existing is not None:
            changes = {
                k: values[k] for k in ("document", "type", "kind", "signed_document") if k in values
            }
            await self._db.execute(
                linked_posts.update().where(condition).values(deleted_at=None, **changes)
            )
            return False
        await self._db.execute(linked_posts.insert().values(received_at=utcnow(), **values))
        return True

    async def linked_post(self, object_id: str) -> LinkedPostRow | None:
        query = sa.select(linked_posts).where(linked_posts.c.object_id == object_id)
        row = await self._db.fetch_one(query)
        return _from_row(LinkedPostRow, row, booleans=("announced",)) if row else None

    async def delete_linked_post(self, object_id: str) -> None:
        await self._db.execute(
            linked_posts.update()
            .where(linked_posts.c.object_id == object_id)
            .values(deleted_at=utcnow(), document="{}", signed_document=None)
        )

    async def recent_linked_posts(
        self, *, limit: int, kinds: tuple[str, ...] | None = None, origin_host: str | None = None
    ) -> list[LinkedPostRow]:
        query = sa.select(linked_posts).where(linked_posts.c.deleted_at.is_(None))
        if kinds is not None:
            query = query.where(linked_posts.c.kind.in_(kinds))
        if origin_host is not None:
            query = query.where(linked_posts.c.origin_host == origin_host)
        query = query.order_by(linked_posts.c.published_at.desc()).limit(limit)
        rows = await self._db.fetch_all(query)
        return [_from_row(LinkedPostRow, row, booleans=("announced",)) for row in rows]

    async def announced_linked_posts(self, *, limit: int) -> list[LinkedPostRow]:
        """What our Group passed on, newest first (for its outbox)."""
        query = (
            sa.select(linked_posts)
            .where(linked_posts.c.announced == sa.true(), linked_posts.c.deleted_at.is_(None))
            .order_by(linked_posts.c.published_at.desc(), linked_posts.c.id.desc())
            .limit(limit)
        )
        rows = await self._db.fetch_all(query)
        return [_from_row(LinkedPostRow, row, booleans=("announced",)) for row in rows]

    async def count_announced_linked_posts(self) -> int:
        query = sa.select(sa.func.count()).where(
            linked_posts.c.announced == sa.true(), linked_posts.c.deleted_at.is_(None)
        )
        return int(await self._db.fetch_val(query) or 0)

    # --- shared moderation ---

    async def suggest_block(self, source_actor_id: str, target: str, reason: str) -> bool:
        """Record a linked node's block; False when it was already suggested."""
        condition = sa.and_(
            block_suggestions.c.source_actor_id == source_actor_id,
            block_suggestions.c.target == target,
        )
        if await self._db.fetch_val(sa.select(sa.func.count()).where(condition)):
            return False
        await self._db.execute(
            block_suggestions.insert().values(
                source_actor_id=source_actor_id,
                target=target,
                reason=reason,
                status="suggested",
                created_at=utcnow(),
            )
        )
        return True

    async def block_suggestions(self, status: str | None = None) -> list[dict[str, Any]]:
        query = sa.select(block_suggestions).order_by(block_suggestions.c.id)
        if status is not None:
            query = query.where(block_suggestions.c.status == status)
        return [dict(row._mapping) for row in await self._db.fetch_all(query)]

    async def set_suggestion_status(self, source_actor_id: str, target: str, status: str) -> None:
        await self._db.execute(
            block_suggestions.update()
            .where(
                block_suggestions.c.source_actor_id == source_actor_id,
                block_suggestions.c.target == target,
            )
            .values(status=status)
        )
