"""What `conode doctor` and the admin dashboard report: the queues, paused servers and the
activity of the last hours."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from .connection import StoreBase, is_sqlite
from .rows import _aware
from .schema import activity_log, deliveries, hosts, inbound, mail_jobs


class HealthQueries(StoreBase):
    async def delivery_queue(self) -> dict[str, Any]:
        """Deliveries not yet delivered nor given up: how many, the oldest's creation, its
        host, and when the most overdue one was due."""
        d = deliveries
        waiting = d.c.status == "pending"
        count = int(await self._db.fetch_val(sa.select(sa.func.count()).where(waiting)) or 0)
        oldest = await self._db.fetch_one(
            sa.select(d.c.created_at, d.c.host).where(waiting).order_by(d.c.created_at).limit(1)
        )
        due = await self._db.fetch_val(sa.select(sa.func.min(d.c.next_attempt_at)).where(waiting))
        return {
            "waiting": count,
            "oldest_at": _aware(oldest.created_at) if oldest is not None else None,
            "oldest_host": oldest.host if oldest is not None else None,
            "first_due_at": _aware(due) if due is not None else None,
        }

    async def inbound_queue(self) -> dict[str, Any]:
        """Inbound activities waiting to be acted on: how many, and the oldest's arrival."""
        queued = inbound.c.status == "queued"
        count = int(await self._db.fetch_val(sa.select(sa.func.count()).where(queued)) or 0)
        oldest = await self._db.fetch_val(
            sa.select(sa.func.min(inbound.c.received_at)).where(queued)
        )
        return {"queued": count, "oldest_at": _aware(oldest) if oldest is not None else None}

    async def paused_hosts(self, now: datetime) -> list[dict[str, Any]]:
        """Servers deliveries to which are paused after repeated failures, longest first."""
        query = (
            sa.select(hosts.c.host, hosts.c.paused_until, hosts.c.consecutive_failures)
            .where(hosts.c.paused_until > now)
            .order_by(hosts.c.paused_until.desc(), hosts.c.host)
        )
        return [
            {
                "host": row.host,
                "paused_until": _aware(row.paused_until),
                "failures": row.consecutive_failures,
            }
            for row in await self._db.fetch_all(query)
        ]

    async def mail_queue(self) -> dict[str, int]:
        """Mail jobs by status (pending, sent, failed)."""
        query = sa.select(mail_jobs.c.status, sa.func.count()).group_by(mail_jobs.c.status)
        return {str(row[0]): int(row[1]) for row in await self._db.fetch_all(query)}

    async def hourly_activity(self, since: datetime) -> dict[tuple[str, str], int]:
        """Activity log entries since `since`, counted by (hour "YYYY-MM-DD HH", direction):
        direction "delivery" (each attempt) or "inbound" (each activity received)."""
        log = activity_log
        if is_sqlite(self.url):
            hour: Any = sa.func.strftime("%Y-%m-%d %H", log.c.created_at)
        else:
            utc = sa.func.timezone("UTC", log.c.created_at)
            hour = sa.func.to_char(utc, "YYYY-MM-DD HH24")
        query = (
            sa.select(hour.label("hour"), log.c.direction, sa.func.count().label("n"))
            .where(log.c.created_at >= since)
            .group_by(hour, log.c.direction)
        )
        return {(str(r.hour), str(r.direction)): int(r.n) for r in await self._db.fetch_all(query)}
