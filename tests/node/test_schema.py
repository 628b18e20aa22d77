"""The migrations build exactly the tables node/storage/schema.py declares (SQLite, PostgreSQL)."""

from __future__ import annotations

import asyncio

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.ext.asyncio import create_async_engine

from node.storage import async_url, head_revision, migrate
from node.storage.schema import metadata


def _declared(name: str | None, type_: str, parent_names: object) -> bool:
    """The search index tables (migration 0015) are the database's own, written by triggers and
    different on each database; schema.py declares every other table."""
    return not (type_ == "table" and name is not None and name.startswith("search_"))


def _differences(database_url: str) -> list[object]:
    async def compare() -> list[object]:
        engine = create_async_engine(async_url(database_url))
        try:
            async with engine.connect() as connection:
                return await connection.run_sync(
                    lambda sync: list(
                        compare_metadata(
                            MigrationContext.configure(sync, opts={"include_name": _declared}),
                            metadata,
                        )
                    )
                )
        finally:
            await engine.dispose()

    return asyncio.run(compare())


def test_migrations_match_the_declared_schema(empty_database_url: str) -> None:
    assert migrate(empty_database_url) is None
    assert migrate(empty_database_url) == head_revision()  # a second run is harmless
    assert _differences(empty_database_url) == []
