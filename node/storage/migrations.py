"""Alembic migrations: bring a database to the newest schema."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import asyncpg
import sqlalchemy as sa

from .connection import DatabaseUrlError, async_url, redact, sqlite_path

MIGRATIONS_DIR = Path(__file__).parent / "alembic"


def migrate(database_url: str) -> str | None:
    """Bring the schema to the newest revision; returns the revision it started from.

    Synchronous on purpose: alembic runs its own event loop, so call this before serving.
    """
    from alembic import command
    from alembic.config import Config
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy.ext.asyncio import create_async_engine

    path = sqlite_path(database_url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)

    async def current_revision() -> str | None:
        engine = create_async_engine(async_url(database_url))
        try:
            async with engine.connect() as connection:
                if connection.dialect.name == "sqlite":
                    # WAL is a property of the file: set once, every later connection uses it.
                    await connection.exec_driver_sql("PRAGMA journal_mode=WAL")
                return await connection.run_sync(
                    lambda sync: MigrationContext.configure(sync).get_current_revision()
                )
        except (OSError, sqlite3.Error, asyncpg.PostgresError, sa.exc.DBAPIError) as exc:
            raise DatabaseUrlError(
                f"cannot reach the database {redact(database_url)}: {exc}"
            ) from exc
        finally:
            await engine.dispose()

    import asyncio

    before = asyncio.run(current_revision())
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["database_url"] = database_url
    command.upgrade(config, "head")
    return before


def head_revision() -> str:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    head = ScriptDirectory.from_config(config).get_current_head()
    assert head is not None
    return head
