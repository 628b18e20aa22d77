"""The delivery job table and per-host health (node/federation/delivery.py drives it)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from .connection import StoreBase
from .rows import _aware
from .schema import deliveries, hosts


class DeliveryQueries(StoreBase):
    # --- deliveries (node/federation/delivery.py) ---

    _deliveries = deliveries
    _hosts = hosts
    # 11 columns a row: 1,000 rows stay under PostgreSQL's 32,767 bind parameters.
    _DELIVERY_INSERT_ROWS = 1000

    async def enqueue_deliveries(self, rows: list[dict[str, Any]]) -> int:
        """Insert delivery rows, skipping (activity_id, inbox_url) pairs already queued.

        Returns how many rows are new. Runs inside the caller's transaction, if any.
        """
        table = self._deliveries
        added = 0
        for start in range(0, len(rows), self._DELIVERY_INSERT_ROWS):
            chunk = rows[start : start + self._DELIVERY_INSERT_ROWS]
            query = (
                self._upsert(table)
                .values(chunk)
                .on_conflict_do_nothing(index_elements=["activity_id", "inbox_url"])
                .returning(table.c.id)
            )
            added += len(await self._db.fetch_all(query))
        return added

    async def claim_deliveries(
        self, *, now: datetime, lease_until: datetime, limit: int, worker: str | None = None
    ) -> list[dict[str, Any]]:
        """Lease up to `limit` due rows of unpaused hosts in one statement to `worker` (kept in
        claimed_by); counts the attempt. claimed_by stays when the attempt is recorded: it
        names who sent the row last; only locked_until in the future holds the row.

        PostgreSQL skips rows another worker is claiming (SKIP LOCKED); SQLite has no FOR
        UPDATE, and its single writer serialises claims instead.
        """
        d, h = self._deliveries, self._hosts
        paused = sa.select(h.c.host).where(h.c.paused_until > now)
        due = (
            sa.select(d.c.id)
            .where(
                d.c.status == "pending",
                d.c.next_attempt_at <= now,
                sa.or_(d.c.locked_until.is_(None), d.c.locked_until <= now),
                d.c.host.not_in(paused),
            )
            .order_by(d.c.next_attempt_at, d.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True, of=d)
        )
        query = (
            d.update()
            .where(d.c.id.in_(due))
            .values(locked_until=lease_until, attempts=d.c.attempts + 1, claimed_by=worker)
            .returning(
                d.c.id, d.c.activity_id, d.c.sender, d.c.inbox_url, d.c.host, d.c.body, d.c.attempts
            )
        )
        rows = [dict(row._mapping) for row in await self._db.fetch_all(query)]
        return sorted(rows, key=lambda row: int(row["id"]))

    async def finish_delivery(
        self,
        delivery_id: int,
        *,
        status: str,
        next_attempt_at: datetime | None,
        last_status: int | None,
        last_error: str | None,
    ) -> None:
        """Record an attempt's result and release the lease."""
        values: dict[str, Any] = {
            "status": status,
            "locked_until": None,
            "last_status": last_status,
            "last_error": last_error[:2000] if last_error else None,
        }
        if next_attempt_at is not None:
            values["next_attempt_at"] = next_attempt_at
        d = self._deliveries
        await self._db.execute(d.update().where(d.c.id == delivery_id).values(**values))

    async def host_succeeded(self, host: str, now: datetime) -> None:
        await self.hosts_succeeded([(host, now)])

    async def hosts_succeeded(self, successes: list[tuple[str, datetime]]) -> None:
        """Mark each (host, moment) healthy in one statement, taking the rows in list order."""
        if not successes:
            return
        h = self._hosts
        insert = self._upsert(h)
        healthy = {
            "consecutive_failures": 0,
            "paused_until": None,
            "last_success_at": insert.excluded.last_success_at,
        }
        rows = [
            {"host": host, "consecutive_failures": 0, "paused_until": None, "last_success_at": at}
            for host, at in successes
        ]
        query = insert.values(rows).on_conflict_do_update(index_elements=[h.c.host], set_=healthy)
        await self._db.execute(query)

    async def host_failed(self, host: str, now: datetime) -> tuple[int, datetime | None]:
        """Count a failure unless the host is paused already (requests in flight when it was
        paused add nothing); returns the consecutive failures and the pause in force, if any."""
        h = self._hosts
        paused = h.c.paused_until > now
        count = sa.case((paused, h.c.consecutive_failures), else_=h.c.consecutive_failures + 1)
        query = (
            self._upsert(h)
            .values(host=host, consecutive_failures=1, last_failure_at=now)
            .on_conflict_do_update(
                index_elements=[h.c.host],
                set_={"consecutive_failures": count, "last_failure_at": now},
            )
            .returning(h.c.consecutive_failures, h.c.paused_until)
        )
        row = await self._db.fetch_one(query)
        assert row is not None
        until = row._mapping["paused_until"]
        return int(row._mapping["consecutive_failures"]), _aware(until) if until else None

    async def pause_host(self, host: str, until: datetime) -> None:
        h = self._hosts
        await self._db.execute(h.update().where(h.c.host == host).values(paused_until=until))

    async def host_health(self, host: str) -> dict[str, Any] | None:
        row = await self._db.fetch_one(sa.select(self._hosts).where(self._hosts.c.host == host))
        if row is None:
            return None
        data = dict(row._mapping)
        for name in ("paused_until", "last_success_at", "last_failure_at"):
            data[name] = _aware(data[name]) if data[name] else None
        return data

    async def deliveries_of(self, activity_id: str) -> list[dict[str, Any]]:
        d = self._deliveries
        query = sa.select(d).where(d.c.activity_id == activity_id).order_by(d.c.id)
        rows = [dict(row._mapping) for row in await self._db.fetch_all(query)]
        for row in rows:
            for name in ("next_attempt_at", "created_at", "locked_until"):
                row[name] = _aware(row[name]) if row[name] else None
        return rows

    async def count_deliveries(self, status: str | None = None) -> int:
        d = self._deliveries
        query = sa.select(sa.func.count()).select_from(d)
        if status is not None:
            query = query.where(d.c.status == status)
        return int(await self._db.fetch_val(query) or 0)
