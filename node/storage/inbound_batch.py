"""Group commit for the inbox: accepted activities are stored by one writer in batches.

One transaction per activity costs a commit (an fsync with synchronous=FULL) and several thread
hand-offs through aiosqlite each, which caps the inbox far below what verifying signatures
allows. Instead each request hands its row to the writer and awaits the commit of the batch it
joined: a 202 still means the row is durable. While one batch commits, the requests arriving
meanwhile gather into the next, so batches grow with the load and no timer delays a lone request.
On PostgreSQL a batch is one INSERT … ON CONFLICT DO NOTHING RETURNING, which also tells each
request whether its activity is new or a duplicate; on SQLite the batch goes to a writer thread
of its own (node/storage/sqlite_writer.py), which learns the same from each row's INSERT.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from .connection import StoreBase, sqlite_path
from .rows import utcnow
from .schema import inbound
from .sqlite_writer import SQLiteBatchWriter

# 8 values a row: 500 rows stay well under PostgreSQL's 32,767 bind parameters.
MAX_BATCH = 500
COLUMNS: tuple[str, ...] = ("activity_id", "actor_id", "type", "body", "recipient", "status")
COLUMNS += ("attempts", "received_at")


@dataclass
class _Writer:
    waiting: list[tuple[dict[str, Any], asyncio.Future[bool]]] = field(default_factory=list)
    task: asyncio.Task[None] | None = None
    sqlite: SQLiteBatchWriter | None = None  # SQLite files: node/storage/sqlite_writer.py


class InboundBatchQueries(StoreBase):
    async def store_inbound_grouped(
        self, activity_id: str, actor_id: str, type_: str, body: str, recipient: str | None
    ) -> bool:
        """store_inbound() through the group-commit writer; never inside a transaction (the
        batch commits on the writer's own connection). False when the id was seen before."""
        row = {
            "activity_id": activity_id,
            "actor_id": actor_id,
            "type": type_,
            "body": body,
            "recipient": recipient,
            "status": "queued",
            "attempts": 0,
            "received_at": utcnow(),
        }
        writer = self._inbound_writer()
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        writer.waiting.append((row, future))
        if writer.task is None or writer.task.done():
            writer.task = asyncio.create_task(self._write_batches(writer))
        return await future

    def _inbound_writer(self) -> _Writer:
        writer: _Writer | None = self.__dict__.get("_writer")
        if writer is None:
            path = sqlite_path(self.url)
            sqlite = SQLiteBatchWriter(path, inbound, COLUMNS, "activity_id") if path else None
            writer = self.__dict__["_writer"] = _Writer(sqlite=sqlite)
        return writer

    async def disconnect(self) -> None:
        writer: _Writer | None = self.__dict__.pop("_writer", None)
        if writer is not None:
            if writer.task is not None:
                await asyncio.gather(writer.task, return_exceptions=True)
            if writer.sqlite is not None:
                await writer.sqlite.close()
        await super().disconnect()

    async def _write_batches(self, writer: _Writer) -> None:
        while writer.waiting:
            batch, writer.waiting = writer.waiting[:MAX_BATCH], writer.waiting[MAX_BATCH:]
            try:
                new = await self._insert_batch(writer, [row for row, _ in batch])
            except Exception as exc:  # every waiting request learns of it; none hangs
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for row, future in batch:
                if not future.done():
                    # The first of two requests with one id in a batch is new, the second not.
                    future.set_result(new.pop(row["activity_id"], False))

    async def _insert_batch(self, writer: _Writer, rows: list[dict[str, Any]]) -> dict[str, bool]:
        if writer.sqlite is not None:
            new = await writer.sqlite.insert(rows)
            return {row["activity_id"]: True for row, fresh in zip(rows, new, strict=True) if fresh}
        query = (
            self._upsert(inbound)
            .values(rows)
            .on_conflict_do_nothing(index_elements=["activity_id"])
            .returning(inbound.c.activity_id)
        )
        async with self._db.transaction():
            inserted = await self._db.fetch_all(query)
        return {str(record[0]): True for record in inserted}
