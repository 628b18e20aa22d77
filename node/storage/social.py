"""Followers and following: who receives what we publish, whom our members follow."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import sqlalchemy as sa

from .connection import StoreBase
from .rows import FollowerRow, _follower, _on_server, utcnow
from .schema import followers, following


class SocialQueries(StoreBase):
    # --- followers and following ---

    async def add_follower(self, follower: FollowerRow) -> bool:
        """Store a follower; False when they already followed (the follow id is refreshed)."""
        values = {k: v for k, v in asdict(follower).items() if k != "id"}
        existing = await self._db.fetch_val(
            sa.select(followers.c.id).where(
                followers.c.local_actor_id == follower.local_actor_id,
                followers.c.actor_id == follower.actor_id,
            )
        )
        if existing is not None:
            await self._db.execute(
                followers.update().where(followers.c.id == existing).values(**values)
            )
            return False
        await self._db.execute(followers.insert().values(**values))
        return True

    async def remove_follower(self, local_actor_id: int, actor_id: str) -> bool:
        result = await self._db.fetch_val(
            sa.select(sa.func.count()).where(
                followers.c.local_actor_id == local_actor_id, followers.c.actor_id == actor_id
            )
        )
        await self._db.execute(
            followers.delete().where(
                followers.c.local_actor_id == local_actor_id, followers.c.actor_id == actor_id
            )
        )
        return bool(result)

    async def remove_followers_matching(self, *, actor_id: str | None, host: str | None) -> int:
        condition = (
            followers.c.actor_id == actor_id
            if actor_id
            else _on_server(followers.c.host, followers.c.actor_id, host)
        )
        count = await self._db.fetch_val(sa.select(sa.func.count()).where(condition))
        await self._db.execute(followers.delete().where(condition))
        return int(count or 0)

    async def followers_of(self, local_actor_id: int) -> list[FollowerRow]:
        query = sa.select(followers).where(followers.c.local_actor_id == local_actor_id)
        rows = await self._db.fetch_all(query.order_by(followers.c.id))
        return [_follower(row) for row in rows]

    async def follower_count(self, local_actor_id: int) -> int:
        query = sa.select(sa.func.count()).where(followers.c.local_actor_id == local_actor_id)
        return int(await self._db.fetch_val(query) or 0)

    async def follower_inboxes(self, local_actor_ids: list[int]) -> list[str]:
        """One inbox per follower server where it has a shared inbox: fan-out cost is per
        server, not per follower."""
        inbox = sa.func.coalesce(followers.c.shared_inbox_url, followers.c.inbox_url)
        query = sa.select(inbox).where(followers.c.local_actor_id.in_(local_actor_ids)).distinct()
        return sorted(str(row[0]) for row in await self._db.fetch_all(query))

    async def add_following(self, local_actor_id: int, actor_id: str, follow_id: str) -> None:
        await self._db.execute(
            following.delete().where(
                following.c.local_actor_id == local_actor_id, following.c.actor_id == actor_id
            )
        )
        await self._db.execute(
            following.insert().values(
                local_actor_id=local_actor_id,
                actor_id=actor_id,
                follow_id=follow_id,
                accepted=False,
                created_at=utcnow(),
            )
        )

    async def following_row(self, local_actor_id: int, actor_id: str) -> dict[str, Any] | None:
        row = await self._db.fetch_one(
            sa.select(following).where(
                following.c.local_actor_id == local_actor_id, following.c.actor_id == actor_id
            )
        )
        return dict(row._mapping) if row else None

    async def mark_follow_accepted(self, follow_id: str, actor_id: str) -> bool:
        condition = sa.and_(following.c.follow_id == follow_id, following.c.actor_id == actor_id)
        found = await self._db.fetch_val(sa.select(sa.func.count()).where(condition))
        await self._db.execute(following.update().where(condition).values(accepted=True))
        return bool(found)

    async def remove_following(self, local_actor_id: int, actor_id: str) -> None:
        await self._db.execute(
            following.delete().where(
                following.c.local_actor_id == local_actor_id, following.c.actor_id == actor_id
            )
        )

    async def members_following(self, actor_id: str) -> list[int]:
        """The local actors (row ids) that follow `actor_id`."""
        query = sa.select(following.c.local_actor_id).where(following.c.actor_id == actor_id)
        return [int(row[0]) for row in await self._db.fetch_all(query.order_by(following.c.id))]

    async def is_followed_by_members(self, actor_id: str) -> bool:
        query = sa.select(sa.func.count()).where(following.c.actor_id == actor_id)
        return bool(await self._db.fetch_val(query))

    async def following_count(self, local_actor_id: int) -> int:
        query = sa.select(sa.func.count()).where(
            following.c.local_actor_id == local_actor_id, following.c.accepted == sa.true()
        )
        return int(await self._db.fetch_val(query) or 0)
