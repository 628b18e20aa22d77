"""The SQLite connection every process opens: WAL, synchronous=FULL, and transactions that
take the write lock when they begin.

PRAGMAs such as `synchronous` belong to a connection, not to the file, so they are set on
every new connection: by the engine's `connect` event (node/storage/database.py), and by
`DurableConnection`'s constructor for the inbox's own writer thread (sqlite_writer.py).

- journal_mode=WAL (a property of the file, set again if a restored or copied file lost it):
  readers never block the writer, and a crash cannot corrupt the database.
- synchronous=FULL: in WAL mode NORMAL is crash-safe for the application but a power loss may
  undo the last transactions; the inbox answers 202 only after its row commits, so a 202 must
  survive a power cut. FULL fsyncs the WAL at every commit. Measured on an ext4 virtual disk:
  about 300 commits/s with FULL against 40,000 with NORMAL, far above what a community node
  receives (CONODE_RATE_LIMIT defaults to 600 a minute per server).
- BEGIN IMMEDIATE for every transaction `Store.transaction()` starts: a deferred transaction
  that reads and then writes while another connection commits fails at once with "database is
  locked" (SQLite cannot wait: its snapshot is stale), and the busy timeout never applies. The
  crash test's burst of concurrent follows hit exactly that (upsert_remote_actor,
  add_follower). Taking the write lock first makes such a transaction wait its turn instead.
  The driver itself is put in autocommit mode (isolation_level=None), as SQLAlchemy's SQLite
  documentation recommends, so it never emits a BEGIN of its own: a query outside a transaction
  commits by itself and takes no lock it does not need.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import sqlalchemy as sa
from sqlalchemy.util import await_only

PRAGMAS = ("PRAGMA synchronous=FULL",)


def _apply_pragmas(execute: Any) -> None:
    """`execute(sql)` returns a cursor; WAL is set only when missing (it rewrites the header)."""
    cursor = execute("PRAGMA journal_mode")
    if cursor.fetchone()[0] != "wal":
        execute("PRAGMA journal_mode=WAL")
    for pragma in PRAGMAS:
        execute(pragma)


class DurableConnection(sqlite3.Connection):
    """A plain sqlite3 connection with the PRAGMAs above (the inbox writer thread's)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _apply_pragmas(self.execute)


def make_durable(engine: sa.Engine) -> None:
    """Install the PRAGMAs and BEGIN IMMEDIATE as events of this (sync side of an async) engine.
    Transactions ask for the write lock with the execution option `conode_write`."""

    @sa.event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # no implicit BEGIN from the driver
        cursor = dbapi_connection.cursor()
        try:

            def execute(sql: str) -> Any:
                cursor.execute(sql)
                return cursor

            _apply_pragmas(execute)
        finally:
            cursor.close()

    @sa.event.listens_for(engine, "begin")
    def on_begin(connection: sa.Connection) -> None:
        if connection.get_execution_options().get("conode_write"):
            # Straight to aiosqlite: one hand-off to its thread, where a statement through
            # SQLAlchemy's cursor takes three (open, execute, close).
            driver = connection.connection.driver_connection
            assert driver is not None
            await_only(driver.execute("BEGIN IMMEDIATE"))

    dialect_rollback = engine.dialect.do_rollback

    def do_rollback(dbapi_connection: Any) -> None:
        """SQLAlchemy rolls back each connection it is done with; outside BEGIN IMMEDIATE the
        driver (in autocommit) has nothing to undo, and asking its thread costs a hand-off on
        every query."""
        try:
            idle = not dbapi_connection.driver_connection.in_transaction
        except ValueError:  # aiosqlite: "no active connection"
            idle = True
        if not idle:
            dialect_rollback(dbapi_connection)

    setattr(engine.dialect, "do_rollback", do_rollback)  # noqa: B010 (this engine's only)
