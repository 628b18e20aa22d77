"""aiosqlite as SQLAlchemy's engine drives it, with one hand-off to the connection's thread
per statement instead of four.

SQLAlchemy's aiosqlite adapter opens a cursor, executes, fetches every row and closes the
cursor, each an awaited call that aiosqlite queues to its thread and answers through the
event loop (`call_soon_threadsafe`): four wake-ups of the loop for a one-row lookup, most of
what such a query costs the loop. The cursor here sends one function to that same thread
(aiosqlite's own queue, so statements still run in order on the connection's thread) that
does all four with plain sqlite3 and returns the rows, description, row count and last row id
together. Everything else (connecting, commit, rollback, SQLAlchemy's compiled-statement
cache) is SQLAlchemy's and aiosqlite's, unchanged. Passed to the engine as its DBAPI module
(`create_async_engine(..., module=dbapi())`).
"""

from __future__ import annotations

import collections
import sqlite3
from collections.abc import Iterator, Sequence
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.util import await_only

_Outcome = tuple[Any, list[Any], int, int | None]


def _run(connection: sqlite3.Connection, operation: str, parameters: Any, many: bool) -> _Outcome:
    """On the connection's thread: the whole statement, its rows fetched, the cursor closed."""
    cursor = connection.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        elif parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else []
        return description, rows, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


class OneHandOffCursor(AsyncAdapt_aiosqlite_cursor):
    """A DBAPI cursor whose `execute` is one call on the connection's thread; the rows are
    then read from memory, as SQLAlchemy's adapter reads them after its own fetch."""

    __slots__ = ("_description", "_lastrowid", "_rowcount")

    def __init__(self, adapt_connection: Any) -> None:  # no cursor opened here
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._rows = collections.deque()
        self._description: Any = None
        self._rowcount = -1
        self._lastrowid: int | None = None

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> Any:
        return self._lastrowid

    @property
    def arraysize(self) -> int:
        return 1

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        pass

    async def _async_soft_close(self) -> None:
        pass

    def close(self) -> None:
        self._rows.clear()

    def _send(self, operation: Any, parameters: Any, many: bool) -> None:
        connection: Any = self._connection  # an aiosqlite.Connection
        try:
            outcome: _Outcome = await_only(
                connection._execute(_run, connection._conn, operation, parameters, many)
            )
        except Exception as error:
            self._adapt_connection._handle_exception(error)
        self._description, rows, self._rowcount, self._lastrowid = outcome
        self._rows = collections.deque(rows)

    def execute(self, operation: Any, parameters: Any = None) -> None:
        self._send(operation, parameters, False)

    def executemany(self, operation: Any, seq_of_parameters: Sequence[Any]) -> None:
        self._send(operation, seq_of_parameters, True)

    def __iter__(self) -> Iterator[Any]:
        while self._rows:
            yield self._rows.popleft()


class OneHandOffConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()
    _cursor_cls = OneHandOffCursor


class OneHandOffDBAPI(AsyncAdapt_aiosqlite_dbapi):
    """aiosqlite's DBAPI adapter whose connections hand out `OneHandOffCursor`s."""

    def connect(self, *arg: Any, **kw: Any) -> OneHandOffConnection:
        adapted = super().connect(*arg, **kw)
        return OneHandOffConnection(self, adapted._connection)


def dbapi() -> OneHandOffDBAPI:
    return OneHandOffDBAPI(aiosqlite, sqlite3)
