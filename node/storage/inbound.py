"""Inbound activities waiting for processing, and the activity log."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from typing import Any

import asyncpg
import sqlalchemy as sa

from .connection import StoreBase
from .listing import log_query
from .rows import _aware, utcnow
from .schema import activity_log, inbound


class InboundQueries(StoreBase):
    # --- inbound activities ---

    async def store_inbound(
        self, activity_id: str, actor_id: str, type_: str, body: str, recipient: str | None
    ) -> bool:
        """Durably queue a verified activity; False when its id was seen before."""
        condition = inbound.c.activity_id == activity_id
        if await self._db.fetch_val(sa.select(sa.func.count()).where(condition)):
            return False
        try:
            await self._db.execute(
                inbound.insert().values(
                    activity_id=activity_id,
                    actor_id=actor_id,
                    type=type_,
                    body=body,
                    recipient=recipient,
                    status="queued",
                    received_at=utcnow(),
                )
            )
        except (sqlite3.IntegrityError, asyncpg.UniqueViolationError):
            return False  # the same activity arrived twice at once
        return True

    async def claim_inbound(self, limit: int, lease: timedelta) -> list[dict[str, Any]]:
        now = utcnow()
        due = (
            sa.select(inbound.c.id)
            .where(
                inbound.c.status == "queued",
                sa.or_(inbound.c.locked_until.is_(None), inbound.c.locked_until < now),
            )
            .order_by(inbound.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        async with self._db.transaction():
            ids = [int(row[0]) for row in await self._db.fetch_all(due)]
            if not ids:
                return []
            await self._db.execute(
                inbound.update()
                .where(inbound.c.id.in_(ids))
                .values(locked_until=now + lease, attempts=inbound.c.attempts + 1)
            )
            rows = await self._db.fetch_all(
                sa.select(inbound).where(inbound.c.id.in_(ids)).order_by(inbound.c.id)
            )
        return [dict(row._mapping) for row in rows]

    async def finish_inbound(self, inbound_id: int, status: str) -> None:
        await self._db.execute(
            inbound.update()
            .where(inbound.c.id == inbound_id)
            .values(status=status, locked_until=None)
        )

    async def count_inbound(self, status: str) -> int:
        query = sa.select(sa.func.count()).where(inbound.c.status == status)
        return int(await self._db.fetch_val(query) or 0)

    # --- the activity log ---

    async def log(
        self,
        direction: str,
        outcome: str,
        reason: str = "",
        *,
        activity_id: str | None = None,
        type_: str | None = None,
        actor_id: str | None = None,
        host: str | None = None,
    ) -> None:
        await self._db.execute(
            activity_log.insert().values(
                direction=direction,
                activity_id=activity_id[:2048] if activity_id else None,
                type=type_[:32] if type_ else None,
                actor_id=actor_id[:2048] if actor_id else None,
                host=host,
                outcome=outcome,
                reason=reason[:2000],
                created_at=utcnow(),
            )
        )

    async def log_entries(
        self,
        *,
        direction: str | None = None,
        host: str | None = None,
        outcome: str | None = None,
        limit: int = 200,
    ) -> list[dict[str, Any]]:
        query = log_query(direction=direction, host=host, outcome=outcome)
        query = query.order_by(activity_log.c.id.desc()).limit(limit)
        rows = [dict(row._mapping) for row in await self._db.fetch_all(query)]
        for row in rows:
            row["created_at"] = _aware(row["created_at"])
        return rows[::-1]
