"""Recording a whole pass of delivery attempts in one transaction (node/delivery.py).

One transaction per attempt, as before, cost a commit each (an fsync with synchronous=FULL on
SQLite) and made the worker's concurrent attempts queue for SQLite's write lock: the fan-out
benchmark measured ~50 deliveries/s. A pass now records its delivered rows with one UPDATE per
distinct answer and its log rows with one INSERT.
"""

from __future__ import annotations

from typing import Any

from ..schema import activity_log, deliveries
from .connection import StoreBase
from .rows import utcnow


class DeliveryBatchQueries(StoreBase):
    async def finish_deliveries(
        self, ids: list[int], *, status: str, last_status: int | None, last_error: str | None
    ) -> None:
        """finish_delivery() for many rows with the same outcome and no next attempt."""
        if not ids:
            return
        values = {
            "status": status,
            "locked_until": None,
            "last_status": last_status,
            "last_error": last_error[:2000] if last_error else None,
        }
        d = deliveries
        await self._db.execute(d.update().where(d.c.id.in_(ids)).values(**values))

    async def log_many(self, entries: list[dict[str, Any]]) -> None:
        """log() for many entries (keys: direction, outcome, reason, activity_id, type_,
        actor_id, host), in one INSERT."""
        if not entries:
            return
        now = utcnow()
        rows = [
            {
                "direction": entry["direction"],
                "activity_id": (entry.get("activity_id") or "")[:2048] or None,
                "type": (entry.get("type_") or "")[:32] or None,
                "actor_id": (entry.get("actor_id") or "")[:2048] or None,
                "host": entry.get("host"),
                "outcome": entry["outcome"],
                "reason": entry.get("reason", "")[:2000],
                "created_at": now,
            }
            for entry in entries
        ]
        for start in range(0, len(rows), 500):  # 8 values a row
            await self._db.execute(activity_log.insert().values(rows[start : start + 500]))
