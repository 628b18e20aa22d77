"""Who may interact with our posts: followers looked up for a policy, the quotes we allowed, and
the conversations (FEP-7888 contexts) comments named (node/content/interaction_policy.py,
quotes.py and conversations.py decide)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from .connection import StoreBase
from .schema import followers, notes, quote_authorizations


class InteractionQueries(StoreBase):
    _quote_authorizations = quote_authorizations

    async def is_follower(self, local_actor_id: int, actor_id: str) -> bool:
        query = sa.select(followers.c.id).where(
            followers.c.local_actor_id == local_actor_id, followers.c.actor_id == actor_id
        )
        return await self._db.fetch_one(query.limit(1)) is not None

    async def add_quote_authorization(self, values: dict[str, Any]) -> dict[str, Any]:
        """Store an authorization unless that quote of that post has one; returns the one kept."""
        table = self._quote_authorizations
        insert = self._upsert(table).values(**values)
        await self._db.execute(
            insert.on_conflict_do_nothing(index_elements=[table.c.post_id, table.c.quote_id])
        )
        query = sa.select(table).where(
            table.c.post_id == values["post_id"], table.c.quote_id == values["quote_id"]
        )
        row = await self._db.fetch_one(query)
        assert row is not None
        return dict(row._mapping)

    async def quote_authorization(self, public_id: str) -> dict[str, Any] | None:
        table = self._quote_authorizations
        row = await self._db.fetch_one(sa.select(table).where(table.c.public_id == public_id))
        return dict(row._mapping) if row else None

    async def quotes_of_post(self, post_id: int, *, limit: int = 100) -> list[dict[str, Any]]:
        """The quotes of a post we allowed or saw arrive, oldest first."""
        table = self._quote_authorizations
        query = (
            sa.select(table.c.quote_id, table.c.actor_id, table.c.created_at)
            .where(table.c.post_id == post_id)
            .order_by(table.c.created_at, table.c.id)
            .limit(limit)
        )
        return [dict(row._mapping) for row in await self._db.fetch_all(query)]

    async def remove_quote(self, quote_id: str, actor_id: str) -> int:
        """A quoting post deleted by its author: it is no longer shown (nor authorized)."""
        table = self._quote_authorizations
        result = await self._db.execute(
            table.delete().where(table.c.quote_id == quote_id, table.c.actor_id == actor_id)
        )
        return int(result or 0)

    async def post_of_context(self, context: str) -> int | None:
        """The post a comment naming this conversation was attached to, if any."""
        query = (
            sa.select(notes.c.post_id)
            .where(notes.c.context == context, notes.c.post_id.is_not(None))
            .order_by(notes.c.id)
            .limit(1)
        )
        value = await self._db.fetch_val(query)
        return int(value) if value is not None else None
