"""Upgrading works from every schema version: a database created at each earlier alembic
revision (0001 … the one before the newest), with a member and a post written as that revision
stored them, migrates to the newest (what `conode init` does after `git pull`), keeps its rows,
and serves them. On SQLite, and on PostgreSQL under CONODE_TEST_DATABASE_URL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import create_async_engine

from node.storage import MIGRATIONS_DIR, Store, async_url, head_revision, migrate

from ..processes import fresh_database

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def _config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["database_url"] = database_url
    return config


def _earlier_revisions() -> list[str]:
    script = ScriptDirectory.from_config(_config(""))
    newest_first = [r.revision for r in script.walk_revisions()]
    return newest_first[:0:-1]  # oldest first, without the head


def _value(column: sa.Column[Any], table: str) -> Any:
    """A plausible value for a required column, whatever the revision named it."""
    if column.name == "username":
        return "ann"
    if column.name == "kind":
        return "Person" if table == "local_actors" else "report"
    kind = column.type
    if isinstance(kind, sa.Boolean):
        return False
    if isinstance(kind, sa.Integer):
        return 1
    if isinstance(kind, sa.DateTime):
        return NOW
    if isinstance(kind, sa.LargeBinary):
        return b""
    if column.name in ("url", "object_id", "ap_id") or column.name.endswith("_url"):
        return f"https://old.example/{table}/1"
    return f"{table} {column.name} from before"


async def _write_old_rows(database_url: str) -> dict[str, int]:
    """A member and, once posts exist, a post: each with every column its revision requires."""
    engine = create_async_engine(async_url(database_url))
    written: dict[str, int] = {}
    try:
        async with engine.begin() as connection:
            metadata = sa.MetaData()
            await connection.run_sync(lambda sync: metadata.reflect(sync))
            for name in ("local_actors", "posts"):
                table = metadata.tables.get(name)
                if table is None:
                    continue
                row = {
                    c.name: _value(c, name)
                    for c in table.columns
                    if not c.nullable and c.server_default is None
                    and not (c.primary_key and isinstance(c.type, sa.Integer))
                }  # fmt: skip
                await connection.execute(table.insert().values(**row))
                written[name] = 1
    finally:
        await engine.dispose()
    return written


async def _counts(database_url: str, tables: list[str]) -> dict[str, int]:
    engine = create_async_engine(async_url(database_url))
    try:
        async with engine.connect() as connection:
            return {
                name: int(
                    (await connection.execute(sa.text(f"SELECT count(*) FROM {name}"))).scalar_one()
                )
                for name in tables
            }
    finally:
        await engine.dispose()


async def _served(database_url: str) -> str | None:
    store = Store(database_url)
    await store.connect()
    try:
        row = await store.local_actor("ann")
        return row.username if row is not None else None
    finally:
        await store.disconnect()


@pytest.mark.parametrize("revision", _earlier_revisions())
def test_a_database_at_an_earlier_revision_upgrades_to_the_newest(
    revision: str, tmp_path: Path
) -> None:
    (tmp_path / "data").mkdir()  # where fresh_database puts a SQLite file
    with fresh_database(tmp_path) as database_url:
        # Given a database created at that revision, with rows written as it stored them
        command.upgrade(_config(database_url), revision)
        written = asyncio.run(_write_old_rows(database_url))
        assert written.get("local_actors") == 1
        # When `conode init` migrates it
        assert migrate(database_url) == revision
        # Then it is at the newest revision, with its rows, and the member is found
        assert asyncio.run(_counts(database_url, list(written))) == written
        assert asyncio.run(_served(database_url)) == "ann"
        assert migrate(database_url) == head_revision()


def test_every_earlier_revision_is_covered() -> None:
    revisions = _earlier_revisions()
    assert revisions[0] == "0001"
    assert head_revision() not in revisions
    assert len(revisions) >= 10
