"""Approved authors, blocks and Flag reports."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa

from .block_list import BlockList
from .connection import StoreBase
from .rows import _aware, utcnow
from .schema import approved_authors, blocks, reports


class ModerationQueries(StoreBase):
    # --- moderation ---

    async def approve_author(self, actor_id: str) -> None:
        condition = approved_authors.c.actor_id == actor_id
        if not await self._db.fetch_val(sa.select(sa.func.count()).where(condition)):
            await self._db.execute(
                approved_authors.insert().values(actor_id=actor_id, created_at=utcnow())
            )

    async def is_approved_author(self, actor_id: str) -> bool:
        condition = approved_authors.c.actor_id == actor_id
        return bool(await self._db.fetch_val(sa.select(sa.func.count()).where(condition)))

    async def add_block(self, target: str, kind: str, reason: str) -> bool:
        condition = blocks.c.target == target
        if await self._db.fetch_val(sa.select(sa.func.count()).where(condition)):
            return False
        await self._db.execute(
            blocks.insert().values(target=target, kind=kind, reason=reason, created_at=utcnow())
        )
        self._block_list().changed()
        return True

    async def remove_block(self, target: str) -> bool:
        condition = blocks.c.target == target
        found = await self._db.fetch_val(sa.select(sa.func.count()).where(condition))
        await self._db.execute(blocks.delete().where(condition))
        self._block_list().changed()
        return bool(found)

    async def blocks(self) -> list[dict[str, Any]]:
        query = sa.select(blocks).order_by(blocks.c.id)
        return [dict(row._mapping) for row in await self._db.fetch_all(query)]

    async def is_blocked(self, actor_id: str | None, hosts: list[str]) -> bool:
        """Blocked when the actor or any of the given domains is on the block list (as this
        process last loaded it: node/storage/block_list.py)."""
        blocked = await self._block_list().targets(self._blocked_targets)
        return (actor_id is not None and actor_id in blocked) or not blocked.isdisjoint(hosts)

    async def is_blocked_now(self, actor_id: str | None, hosts: list[str]) -> bool:
        """As is_blocked, read from the database at this moment (not the process's list)."""
        targets = [*hosts, *([actor_id] if actor_id else [])]
        if not targets:
            return False
        query = sa.select(sa.func.count()).select_from(blocks)
        return bool(await self._db.fetch_val(query.where(blocks.c.target.in_(targets))))

    async def _blocked_targets(self) -> list[str]:
        return [str(row[0]) for row in await self._db.fetch_all(sa.select(blocks.c.target))]

    def _block_list(self) -> BlockList:
        block_list: BlockList | None = self.__dict__.get("_blocks")
        if block_list is None:
            block_list = self.__dict__["_blocks"] = BlockList()
        return block_list

    async def add_report(
        self, activity_id: str, actor_id: str, content: str, object_ids: list[str]
    ) -> int | None:
        """The new report's number; None when this activity was stored before."""
        condition = reports.c.activity_id == activity_id
        if await self._db.fetch_val(sa.select(sa.func.count()).where(condition)):
            return None
        query = (
            reports.insert()
            .values(
                activity_id=activity_id,
                actor_id=actor_id,
                content=content,
                object_ids=json.dumps(object_ids),
                created_at=utcnow(),
            )
            .returning(reports.c.id)
        )
        return int(await self._db.fetch_val(query))

    async def reports(self) -> list[dict[str, Any]]:
        query = sa.select(reports).order_by(reports.c.id)
        return [_report(row) for row in await self._db.fetch_all(query)]

    async def report(self, report_id: int) -> dict[str, Any] | None:
        row = await self._db.fetch_one(sa.select(reports).where(reports.c.id == report_id))
        return _report(row) if row else None

    async def mark_report_forwarded(self, report_id: int) -> None:
        query = reports.update().where(reports.c.id == report_id).values(forwarded_at=utcnow())
        await self._db.execute(query)


def _report(row: Any) -> dict[str, Any]:
    report = dict(row._mapping)
    report["object_ids"] = json.loads(report["object_ids"])
    for name in ("created_at", "forwarded_at"):
        if report[name] is not None:
            report[name] = _aware(report[name])
    return report
