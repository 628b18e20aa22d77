"""The database handle every query module uses: SQLAlchemy's asyncio engine behind the small
API the query mixins call (`fetch_all`, `fetch_one`, `fetch_val`, `execute`, `execute_many`,
`transaction`).

SQLAlchemy compiles each Core statement once and keeps it in the engine's compiled cache
(the offers board query: ~0.7 ms to compile, ~25 µs from the cache), which `databases`, used
before, never did. Queries outside a transaction each borrow a pooled connection and autocommit;
`transaction()` pins one connection to the current task through a ContextVar, so every query
the task makes inside it runs there, and a nested `transaction()` is a SAVEPOINT.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import AsyncAdaptedQueuePool

from . import sqlite_driver
from .sqlite_connection import make_durable

Query = sa.Executable | str


class Record:
    """One result row: by position (`row[0]`), by name (`row["id"]`, `row.id`) and as a
    mapping (`row._mapping`), as the query modules read rows."""

    __slots__ = ("_row",)

    def __init__(self, row: sa.Row[Any]) -> None:
        self._row = row

    @property
    def _mapping(self) -> sa.RowMapping:
        return self._row._mapping

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, int | slice):
            return self._row[key]
        return self._row._mapping[key]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._row, name)

    def keys(self) -> Any:
        return self._row._mapping.keys()

    def values(self) -> Any:
        return self._row._mapping.values()

    def __iter__(self) -> Iterator[str]:
        return iter(self._row._mapping.keys())

    def __len__(self) -> int:
        return len(self._row)

    def __repr__(self) -> str:
        return f"Record({dict(self._row._mapping)!r})"


def _writes(statement: sa.Executable) -> bool:
    """INSERT, UPDATE, DELETE (with or without RETURNING), or SQL text that is not a query."""
    if isinstance(statement, sa.TextClause):
        return not statement.text.lstrip()[:6].upper().startswith("SELECT")
    return bool(getattr(statement, "is_dml", False))


def _statement(query: Query) -> sa.Executable:
    return sa.text(query) if isinstance(query, str) else query


class Database:
    """One engine; `sqlite` adds the SQLite connection events (sqlite_connection.py)."""

    def __init__(self, url: str, *, sqlite: bool) -> None:
        if sqlite:
            self._engine: AsyncEngine = create_async_engine(
                url,
                module=sqlite_driver.dbapi(),  # one thread hand-off per statement
                connect_args={"timeout": 30},  # seconds to wait on a locked database
                poolclass=AsyncAdaptedQueuePool,  # keep connections (and their threads) open
                pool_size=8,
                max_overflow=24,
                pool_timeout=60,
            )
            make_durable(self._engine.sync_engine)
            # BEGIN IMMEDIATE is emitted by make_durable's begin event for these connections.
            self._transaction_options: dict[str, Any] = {"conode_write": True}
        else:
            self._engine = create_async_engine(
                url, isolation_level="AUTOCOMMIT", pool_size=10, max_overflow=0, pool_timeout=60
            )
            self._transaction_options = {"isolation_level": "READ COMMITTED"}
        # statements that may have changed data, committed through this handle: what this
        # process knows changed without asking the database (node/cache/pages.py)
        self.writes = 0
        self._held: ContextVar[list[int] | None] = ContextVar(
            f"conode_held_{id(self)}", default=None
        )
        self._current: ContextVar[tuple[asyncio.Task[Any] | None, AsyncConnection] | None] = (
            ContextVar(f"conode_connection_{id(self)}", default=None)
        )

    def _wrote(self) -> None:
        held = self._held.get()
        if held is None:
            self.writes += 1
        else:
            held[0] += 1

    @contextmanager
    def writes_held(self) -> Iterator[None]:
        """The writes this task (and the tasks it starts) makes in the block count as one, at
        its end: a worker pass acting on a batch of activities tells the page cache once."""
        token = self._held.set([0])
        try:
            yield
        finally:
            held = self._held.get()
            self._held.reset(token)
            if held and held[0]:
                self.writes += 1

    async def connect(self) -> None:
        async with self._engine.connect() as connection:
            await connection.exec_driver_sql("SELECT 1")

    async def disconnect(self) -> None:
        await self._engine.dispose()

    def _pinned(self) -> AsyncConnection | None:
        """The connection of the transaction this task is in, if any (a task started inside a
        transaction inherits the ContextVar but not the connection: it gets its own)."""
        current = self._current.get()
        if current is None or current[0] is not asyncio.current_task():
            return None
        return current[1]

    async def _run(self, query: Query, values: Any = None) -> sa.CursorResult[Any]:
        statement = _statement(query)
        pinned = self._pinned()
        if pinned is not None:
            return await pinned.execute(statement, values)
        async with self._engine.connect() as connection:
            result = await connection.execute(statement, values)
        if _writes(statement):
            self._wrote()
        return result

    async def fetch_all(self, query: Query, values: Mapping[str, Any] | None = None) -> list[Any]:
        result = await self._run(query, values)
        return [Record(row) for row in result.all()]

    async def fetch_one(self, query: Query, values: Mapping[str, Any] | None = None) -> Any:
        row = (await self._run(query, values)).first()
        return Record(row) if row is not None else None

    async def fetch_val(
        self, query: Query, values: Mapping[str, Any] | None = None, column: int | str = 0
    ) -> Any:
        row = (await self._run(query, values)).first()
        if row is None:
            return None
        return row[column] if isinstance(column, int) else row._mapping[column]

    async def execute(self, query: Query, values: Mapping[str, Any] | None = None) -> Any:
        """Run a statement; an INSERT returns the new row's key, a statement with RETURNING its
        first value, any other the number of rows it changed."""
        result = await self._run(query, values)
        if result.returns_rows:
            return result.scalar()
        if result.is_insert and not result.context.executemany:
            try:
                key = result.inserted_primary_key
            except sa.exc.InvalidRequestError:  # a multi-row VALUES insert
                return result.rowcount
            return key[0] if key else None
        return result.rowcount

    async def execute_many(self, query: Query, values: Sequence[Mapping[str, Any]]) -> None:
        if values:
            await self._run(query, list(values))

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        """A transaction on one connection for this task; nested, a SAVEPOINT inside it."""
        pinned = self._pinned()
        if pinned is not None:
            async with pinned.begin_nested():
                yield
            return
        async with self._engine.connect() as connection:
            await connection.execution_options(**self._transaction_options)
            token = self._current.set((asyncio.current_task(), connection))
            try:
                async with connection.begin():
                    yield
            finally:
                self._current.reset(token)
                self._wrote()  # committed or rolled back: either way, look again
