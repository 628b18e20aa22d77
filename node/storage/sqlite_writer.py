"""The inbox's own SQLite writer: one thread, one sqlite3 connection, one transaction a batch.

Through the engine a batch of accepted activities costs a statement per batch size (SQLAlchemy
caches each compiled form, but a batch of N rows is its own statement) and several hand-offs
to an aiosqlite thread (BEGIN, INSERT, fetch, COMMIT), all on the event loop's thread that also
verifies signatures. Here the statement is compiled once, and a batch is one hand-off to a
thread that runs the whole transaction in C: BEGIN IMMEDIATE, one INSERT … ON CONFLICT DO
NOTHING per row (its rowcount says whether the row is new), COMMIT. The connection is a
DurableConnection (WAL, synchronous=FULL), so a batch's rows are on disk before any request
waiting for them answers 202.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite
from sqlalchemy.dialects.sqlite import pysqlite

from .sqlite_connection import DurableConnection

BUSY_TIMEOUT_SECONDS = 30  # as the other connections (node/storage/connection.py)


class SQLiteBatchWriter:
    """Inserts batches of rows (dicts of `columns`) into `table`, skipping a row whose
    `unique_column` value is already there."""

    def __init__(
        self, path: Path, table: sa.Table, columns: tuple[str, ...], unique_column: str
    ) -> None:
        self._path = path
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-writer")
        self._connection: sqlite3.Connection | None = None
        self._sql, self._order, self._processors = _compiled_insert(table, columns, unique_column)

    async def insert(self, rows: list[dict[str, Any]]) -> list[bool]:
        """Insert and commit; for each row, whether it was new."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._insert, rows)

    async def close(self) -> None:
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._executor, self._close)
        self._executor.shutdown(wait=True)

    def _insert(self, rows: list[dict[str, Any]]) -> list[bool]:
        connection = self._connect()
        connection.execute("BEGIN IMMEDIATE")
        with connection:  # commits, or rolls the whole batch back if any row fails
            return [connection.execute(self._sql, self._args(row)).rowcount == 1 for row in rows]

    def _args(self, row: dict[str, Any]) -> list[Any]:
        values = [row[key] for key in self._order]
        return [
            process(value) if process is not None else value
            for process, value in zip(self._processors, values, strict=True)
        ]

    def _connect(self) -> sqlite3.Connection:
        if self._connection is None:
            self._connection = sqlite3.connect(
                self._path,
                timeout=BUSY_TIMEOUT_SECONDS,
                factory=DurableConnection,
                isolation_level=None,  # transactions are begun and committed explicitly
            )
        return self._connection

    def _close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


def _compiled_insert(
    table: sa.Table, columns: tuple[str, ...], unique_column: str
) -> tuple[str, list[str], list[Callable[[Any], Any] | None]]:
    """The INSERT as the engine would send it (same dialect, same bind processors, so the
    stored values are identical), compiled once: SQL, parameter order, processors."""
    dialect = pysqlite.dialect(paramstyle="qmark")
    statement = (
        sqlite.insert(table)
        .values({name: sa.bindparam(name, type_=table.c[name].type) for name in columns})
        .on_conflict_do_nothing(index_elements=[unique_column])
    )
    compiled = statement.compile(dialect=dialect)
    order = list(compiled.positiontup or [])
    processors: list[Callable[[Any], Any] | None] = []
    for name in order:
        process = compiled._bind_processors.get(name)
        assert process is None or callable(process)  # a list only for tuple-valued binds
        processors.append(process)
    return compiled.string, order, processors
