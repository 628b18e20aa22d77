"""Recording a whole pass of delivery attempts in one transaction (node/federation/delivery.py).

One transaction per attempt, as before, cost a commit each (an fsync with synchronous=FULL on
SQLite) and made the worker's concurrent attempts queue for SQLite's write lock: the fan-out
benchmark measured ~50 deliveries/s. A pass now records its delivered rows with one UPDATE per
distinct answer and its log rows with one INSERT.
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from .connection import StoreBase, is_sqlite
from .rows import utcnow
from .schema import activity_log, deliveries


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
        rows = [
            {
                "direction": entry["direction"],
                "activity_id": (entry.get("activity_id") or "")[:2048] or None,
                "type": (entry.get("type_") or "")[:32] or None,
                "actor_id": (entry.get("actor_id") or "")[:2048] or None,
                "host": entry.get("host"),
                "outcome": entry["outcome"],
                "reason": entry.get("reason", "")[:2000],
                "i": number,  # keeps the rows' order
            }
            for number, entry in enumerate(entries)
        ]
        await self._db.execute(self._insert_log_rows(json.dumps(rows)))

    def _insert_log_rows(self, rows_json: str) -> Any:
        """INSERT … SELECT from one JSON array parameter: a multi-row VALUES of a pass's 256
        rows cost SQLAlchemy more to compile than the pass spent signing (py-spy on the
        fan-out benchmark); this statement compiles in constant time."""
        names = ("direction", "activity_id", "type", "actor_id", "host", "outcome", "reason")
        if is_sqlite(self.url):
            each = sa.func.json_each(sa.bindparam("rows", rows_json)).table_valued("value", "key")
            fields: list[Any] = [sa.func.json_extract(each.c.value, f"$.{name}") for name in names]
            order = each.c.key
        else:
            typed = [sa.column(name, activity_log.c[name].type) for name in names]
            source = sa.cast(sa.bindparam("rows", rows_json), postgresql.JSON)
            each = (
                sa.func.json_to_recordset(source)
                .table_valued(*typed, sa.column("i", sa.Integer))
                .render_derived(with_types=True)
            )
            fields = [each.c[name] for name in names]
            order = each.c.i
        now = sa.literal(utcnow(), activity_log.c.created_at.type)
        select = sa.select(*fields, now).select_from(each).order_by(order)
        return activity_log.insert().from_select([*names, "created_at"], select)
