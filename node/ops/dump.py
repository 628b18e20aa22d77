"""Consistent copies of the database for `conode backup` and `conode restore`.

- SQLite: the sqlite3 online backup API copies every page in one step under a read lock, so the
  copy is one consistent snapshot even while the node writes (WAL readers never block it).
- PostgreSQL: a logical dump, one JSON line per row, read in a single REPEATABLE READ, READ ONLY
  transaction (one snapshot of every table). pg_dump is not used: it must be at least the
  server's major version and is often not installed where the node runs; this needs nothing
  but the node's own driver, and a dump restores into either database.

Tables are found by reflection rather than from node/storage/schema.py, so a dump made at an older
schema revision restores at that revision and is then migrated forward. Like the migrations,
this is the one other place that talks to the database directly.
"""

from __future__ import annotations

import base64
import json
import sqlite3
from collections.abc import AsyncIterator, Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from node.storage import async_url

SKIPPED_TABLES = frozenset({"alembic_version"})  # the revision travels in the manifest
# The search index (migration 0015) is derived: its triggers rebuild it from the rows a restore
# inserts, and SQLite's FTS5 shadow tables have no counterpart on PostgreSQL.
DERIVED_PREFIX = "search_"
INSERT_ROWS = 500


def snapshot_sqlite(source: Path, target: Path) -> None:
    """Copy a live SQLite database into a new file, consistently."""
    with sqlite3.connect(source) as live, sqlite3.connect(target) as copy:
        live.backup(copy)
    with sqlite3.connect(target) as copy:
        copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file in the archive


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, bytes):
        return {"$bytes": base64.b64encode(value).decode("ascii")}
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict) and "$datetime" in value:
        return datetime.fromisoformat(value["$datetime"])
    if isinstance(value, dict) and "$bytes" in value:
        return base64.b64decode(value["$bytes"])
    return value


async def _tables(connection: AsyncConnection) -> list[sa.Table]:
    metadata = sa.MetaData()
    await connection.run_sync(lambda sync: metadata.reflect(sync))
    return [
        t
        for t in metadata.sorted_tables
        if t.name not in SKIPPED_TABLES and not t.name.startswith(DERIVED_PREFIX)
    ]


async def dump_rows(database_url: str) -> AsyncIterator[bytes]:
    """Every row of every table as JSON lines, parents before children, from one snapshot."""
    engine = create_async_engine(async_url(database_url))
    try:
        async with engine.connect() as connection:
            if connection.dialect.name == "postgresql":
                await connection.execute(
                    sa.text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                )
            for table in await _tables(connection):
                result = await connection.stream(sa.select(table))
                async for row in result.mappings():
                    line = {"table": table.name, "row": {k: _encode(v) for k, v in row.items()}}
                    yield json.dumps(line, ensure_ascii=False).encode() + b"\n"
    finally:
        await engine.dispose()


async def row_counts(database_url: str) -> dict[str, int]:
    """How many rows each dumped table holds (the tables `dump_rows` writes)."""
    engine = create_async_engine(async_url(database_url))
    try:
        async with engine.connect() as connection:
            counts = {}
            for table in await _tables(connection):
                found = await connection.execute(sa.select(sa.func.count()).select_from(table))
                counts[table.name] = int(found.scalar_one())
            return counts
    finally:
        await engine.dispose()


def dumped_counts(lines: Iterable[bytes]) -> dict[str, int]:
    """How many rows of each table a dump holds."""
    counts: dict[str, int] = {}
    for line in lines:
        table = str(json.loads(line)["table"])
        counts[table] = counts.get(table, 0) + 1
    return counts


def count_mismatch(expected: dict[str, int], found: dict[str, int]) -> str | None:
    """The first table whose rows differ, said as a sentence; None when every table matches."""
    for table in sorted(set(expected) | set(found)):
        want, got = expected.get(table, 0), found.get(table, 0)
        if want != got:
            return f"table {table} holds {got} rows after the restore, but the backup has {want}"
    return None


async def has_tables(database_url: str) -> bool:
    engine = create_async_engine(async_url(database_url))
    try:
        async with engine.connect() as connection:
            names = await connection.run_sync(lambda sync: sa.inspect(sync).get_table_names())
        return bool(names)
    finally:
        await engine.dispose()


async def drop_tables(database_url: str) -> None:
    engine = create_async_engine(async_url(database_url))
    try:
        async with engine.begin() as connection:
            metadata = sa.MetaData()
            await connection.run_sync(lambda sync: metadata.reflect(sync))
            await connection.run_sync(lambda sync: metadata.drop_all(sync))
            if connection.dialect.name == "postgresql":
                await _drop_functions(connection)
    finally:
        await engine.dispose()


async def _drop_functions(connection: AsyncConnection) -> None:
    """The search index's trigger functions (migration 0015) outlive the tables a restore drops,
    and the migrations it runs next create them again."""
    found = await connection.execute(
        sa.text(
            "SELECT p.oid::regprocedure::text FROM pg_proc p"
            " JOIN pg_namespace n ON n.oid = p.pronamespace"
            " WHERE n.nspname = current_schema() AND p.proname LIKE '%search%'"
        )
    )
    for (signature,) in found.all():
        await connection.execute(sa.text(f"DROP FUNCTION IF EXISTS {signature} CASCADE"))


async def load_rows(database_url: str, lines: Iterable[bytes]) -> int:
    """Insert dumped rows into empty tables of the same revision, in one transaction."""
    engine = create_async_engine(async_url(database_url))
    count = 0
    try:
        async with engine.begin() as connection:
            tables = {table.name: table for table in await _tables(connection)}
            batch: list[dict[str, Any]] = []
            current: str | None = None
            for line in lines:
                item = json.loads(line)
                if item["table"] != current and batch:
                    await connection.execute(tables[str(current)].insert(), batch)
                    batch = []
                current = item["table"]
                batch.append({k: _decode(v) for k, v in item["row"].items()})
                count += 1
                if len(batch) >= INSERT_ROWS:
                    await connection.execute(tables[str(current)].insert(), batch)
                    batch = []
            if batch:
                await connection.execute(tables[str(current)].insert(), batch)
            if connection.dialect.name == "postgresql":
                await _reset_sequences(connection, list(tables.values()))
    finally:
        await engine.dispose()
    return count


async def _reset_sequences(connection: AsyncConnection, tables: list[sa.Table]) -> None:
    """Rows came with their ids: move each serial past them, or the next insert collides."""
    for table in tables:
        if "id" not in table.c or not isinstance(table.c.id.type, sa.Integer):
            continue
        await connection.execute(
            sa.text(
                "SELECT setval(pg_get_serial_sequence(:table, 'id'), "
                f'COALESCE((SELECT MAX(id) FROM "{table.name}"), 0) + 1, false)'
            ),
            {"table": table.name},
        )
