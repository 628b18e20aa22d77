"""Heartbeats of running `conode serve` and `conode worker` processes (one row each)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from .connection import StoreBase
from .rows import _aware, utcnow
from .schema import heartbeats

# The first schema revision with the heartbeats table: older databases have no running
# process this conode could know of.
HEARTBEATS_REVISION = "0010"
# A running process records that it is alive this often; a heartbeat younger than
# HEARTBEAT_FRESH means the process still runs (`conode restore` refuses, `conode doctor` counts
# it as a worker).
HEARTBEAT_SECONDS = 10.0
HEARTBEAT_FRESH = timedelta(seconds=3 * HEARTBEAT_SECONDS)


class HeartbeatQueries(StoreBase):
    async def beat(
        self, name: str, process: str, host: str, started_at: datetime, port: int | None = None
    ) -> None:
        """Record that process `name` is alive now (its row is replaced); `port`: what a
        `conode serve` listens on."""
        now = utcnow()
        async with self.transaction():
            await self._db.execute(heartbeats.delete().where(heartbeats.c.name == name))
            await self._db.execute(
                heartbeats.insert().values(
                    name=name,
                    process=process,
                    host=host,
                    started_at=started_at,
                    seen_at=now,
                    port=port,
                )
            )

    async def end_heartbeat(self, name: str) -> None:
        await self._db.execute(heartbeats.delete().where(heartbeats.c.name == name))

    async def heartbeats_since(self, moment: datetime) -> list[dict[str, Any]]:
        """Processes seen at or after `moment`; none on a database older than 0010."""
        revision = await self.schema_revision()
        if revision is None or revision < HEARTBEATS_REVISION:
            return []
        query = sa.select(heartbeats).where(heartbeats.c.seen_at >= moment)
        rows = [dict(row._mapping) for row in await self._db.fetch_all(query)]
        for row in rows:
            row["seen_at"] = _aware(row["seen_at"])
        return rows
