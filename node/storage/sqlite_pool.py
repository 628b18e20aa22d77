"""Keep SQLite connections open between queries.

`databases` 0.9 opens a new aiosqlite connection (a new thread, a new file handle, the PRAGMAs
of sqlite_connection.py) for every query made outside a transaction, and closes it afterwards:
profiled under inbox load that was over half of the web process's time. This pool hands idle
connections out again instead; at most MAX_IDLE are kept, the rest are closed as before.
"""

from __future__ import annotations

from typing import Any

import aiosqlite
from databases import Database
from databases.backends.sqlite import SQLitePool

MAX_IDLE = 32


class ReusingSQLitePool(SQLitePool):
    def __init__(self, url: Any, **options: Any) -> None:
        super().__init__(url, **options)
        self._idle: list[aiosqlite.Connection] = []

    async def acquire(self) -> aiosqlite.Connection:
        if self._idle:
            return self._idle.pop()
        connection: aiosqlite.Connection = await super().acquire()
        return connection

    async def release(self, connection: aiosqlite.Connection) -> None:
        # A connection left inside a transaction (a failed ROLLBACK) is never handed out again.
        if len(self._idle) < MAX_IDLE and not connection.in_transaction:
            self._idle.append(connection)
        else:
            await super().release(connection)

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        for connection in idle:
            await super().release(connection)


def reuse_connections(database: Database) -> ReusingSQLitePool:
    """Swap the pool of a `databases` SQLite backend for one that keeps connections open."""
    backend = database._backend
    pool = ReusingSQLitePool(backend._database_url, **backend._options)
    backend._pool = pool
    return pool
