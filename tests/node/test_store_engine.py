"""The Store's database handle (node/storage/database.py) on both databases: rows read as the
query modules read them, transactions pinned to their task and nested as SAVEPOINTs, SQLite
transactions that hold the write lock from their first statement, and statements compiled once."""

from __future__ import annotations

import asyncio
import sqlite3
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine.interfaces import CacheStats

from node.storage import Store, sqlite_path, utcnow
from node.storage.schema import blocks

from .conftest import Network


async def _block(store: Store, target: str) -> None:
    row = {"target": target, "kind": "domain", "reason": "spam", "created_at": utcnow()}
    await store._db.execute(blocks.insert().values(row))


async def _blocked(store: Store) -> set[str]:
    return {str(row[0]) for row in await store._db.fetch_all(sa.select(blocks.c.target))}


async def test_rows_read_by_position_by_name_and_as_mappings(store: Store) -> None:
    await _block(store, "spam.example")

    row = await store._db.fetch_one(sa.select(blocks).where(blocks.c.target == "spam.example"))

    assert row is not None
    assert row[1] == row["target"] == row.target == row._mapping["target"] == "spam.example"
    assert dict(row._mapping)["reason"] == "spam"
    assert {"kind", "reason"} <= set(row.keys()) and len(row) == len(blocks.c)
    assert await store._db.fetch_val(sa.select(sa.func.count()).select_from(blocks)) == 1
    assert await store._db.fetch_val("SELECT target FROM blocks") == "spam.example"
    assert await store._db.fetch_one(sa.select(blocks).where(blocks.c.target == "x")) is None


async def test_execute_many_and_the_row_count_of_an_update(store: Store) -> None:
    rows = [
        {"target": f"h{n}.example", "kind": "domain", "reason": "", "created_at": utcnow()}
        for n in range(3)
    ]
    await store._db.execute_many(blocks.insert(), rows)

    changed = await store._db.execute(blocks.update().values(reason="spam"))

    assert changed == 3
    assert await _blocked(store) == {"h0.example", "h1.example", "h2.example"}


async def test_a_failed_nested_transaction_undoes_only_its_own_writes(store: Store) -> None:
    async with store.transaction():
        await _block(store, "kept.example")
        with pytest.raises(RuntimeError):
            async with store.transaction():
                await _block(store, "undone.example")
                raise RuntimeError("inner step failed")
        await _block(store, "also-kept.example")

    assert await _blocked(store) == {"kept.example", "also-kept.example"}


async def test_a_failed_transaction_undoes_everything_and_others_never_see_it(
    store: Store,
) -> None:
    seen_meanwhile: list[set[str]] = []
    with pytest.raises(RuntimeError):
        async with store.transaction():
            await _block(store, "undone.example")
            # Another task reads on its own connection: the write is not committed yet.
            seen_meanwhile.append(await asyncio.create_task(_blocked(store)))
            raise RuntimeError("publish failed")

    assert seen_meanwhile == [set()]
    assert await _blocked(store) == set()


async def test_a_sqlite_transaction_holds_the_write_lock_from_its_start(store: Store) -> None:
    path = sqlite_path(store.url)
    if path is None:
        pytest.skip("SQLite locking")
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        await _blocked(store)  # a query outside a transaction leaves no lock behind
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
        async with store.transaction():
            await _blocked(store)  # only a read so far, yet the lock is held
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
    finally:
        other.close()


async def test_a_page_served_twice_compiles_no_statement_the_second_time(
    network: Network,
) -> None:
    await network.post("Picnic on Saturday")
    engine = network.node.store._db._engine.sync_engine
    hits: list[Any] = []

    def record(conn: Any, cursor: Any, statement: str, params: Any, context: Any, _: Any) -> None:
        if context.compiled is not None:  # plain SQL text has nothing to compile
            hits.append(context.cache_hit is CacheStats.CACHE_HIT)

    await network.http.get("https://conode.example/", headers={"Accept": "text/html"})
    # a kept page would be served with no statement at all (node/cache/pages.py): a new post
    # makes the home page render again, with the statements the first render compiled
    await network.post("Bring a rake")
    sa.event.listen(engine, "after_cursor_execute", record)
    try:
        response = await network.http.get("https://conode.example/")
    finally:
        sa.event.remove(engine, "after_cursor_execute", record)

    assert response.status_code == 200 and "Bring a rake" in response.text
    assert hits and all(hits), f"{hits.count(False)} of {len(hits)} statements compiled anew"


async def test_a_sqlite_statement_is_one_hand_off_to_the_connection_thread(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each call queued to aiosqlite's thread wakes the event loop when it is answered;
    SQLAlchemy's own adapter queues four per statement (open a cursor, execute, fetch, close),
    node/storage/sqlite_driver.py one."""
    if sqlite_path(store.url) is None:
        pytest.skip("SQLite's driver thread")
    import aiosqlite

    await _block(store, "spam.example")
    queued: list[str] = []
    execute = aiosqlite.Connection._execute

    async def counted(self: Any, fn: Any, *args: Any, **kwargs: Any) -> Any:
        queued.append(getattr(fn, "__name__", repr(fn)))
        return await execute(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)

    row = await store._db.fetch_one(sa.select(blocks).where(blocks.c.target == "spam.example"))
    assert row is not None and row.target == "spam.example"
    assert len(queued) == 1, queued

    queued.clear()
    async with store.transaction():
        await _blocked(store)
        await _block(store, "other.example")
    assert len(queued) == 4, queued  # BEGIN IMMEDIATE, the read, the write, COMMIT
    assert await _blocked(store) == {"spam.example", "other.example"}
