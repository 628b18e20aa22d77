"""The database URL, connecting, transactions: what every query module builds on."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from contextlib import AbstractContextManager, asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from .database import Database


class DatabaseUrlError(ValueError):
    """A CONODE_DATABASE_URL we cannot use; the message says why and hides any password."""


def redact(url: str) -> str:
    """The URL with any password replaced, safe for error messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit(parts._replace(netloc=netloc))


def async_url(url: str) -> str:
    """Map the operator's URL to the async driver URL (aiosqlite, asyncpg)."""
    scheme, _, rest = url.partition("://")
    if scheme in ("sqlite", "sqlite+aiosqlite"):
        return f"sqlite+aiosqlite://{rest}"
    if scheme in ("postgresql", "postgres", "postgresql+asyncpg"):
        return f"postgresql+asyncpg://{rest}"
    raise DatabaseUrlError(
        f"CONODE_DATABASE_URL={redact(url)!r}: use sqlite:///path or postgresql://user@host/db"
    )


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def sqlite_path(url: str) -> Path | None:
    """The file behind a sqlite URL (None for in-memory)."""
    if not is_sqlite(url):
        return None
    path = url.partition("://")[2][1:]  # sqlite:///relative or sqlite:////absolute
    return None if path in ("", ":memory:") else Path(path)


class StoreBase:
    """One database connection; the query mixins in this package add the queries."""

    def __init__(self, database_url: str) -> None:
        self.url = database_url
        self._db = Database(async_url(database_url), sqlite=is_sqlite(database_url))

    @property
    def writes(self) -> int:
        """How many writes this process has committed through this store (it only grows)."""
        return self._db.writes

    def writes_held(self) -> AbstractContextManager[None]:
        """See Database.writes_held: many writes, one notice to this process's page cache."""
        return self._db.writes_held()

    def _upsert(self, table: sa.Table) -> Any:
        """INSERT … ON CONFLICT in this database's dialect (the two share the API)."""
        return (sqlite if is_sqlite(self.url) else postgresql).insert(table)

    async def connect(self) -> None:
        path = sqlite_path(self.url)
        if path is not None and not path.exists():
            raise DatabaseUrlError(f"no database at {path}: run `conode init` first")
        try:
            await self._db.connect()
        except (OSError, sqlite3.Error, asyncpg.PostgresError, sa.exc.DBAPIError) as exc:
            raise DatabaseUrlError(f"cannot reach the database {redact(self.url)}: {exc}") from exc

    async def disconnect(self) -> None:
        await self._db.disconnect()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        async with self._db.transaction():
            yield

    async def schema_revision(self) -> str | None:
        """The alembic revision the database is at; None when never initialised."""
        if is_sqlite(self.url):
            exists = "SELECT count(*) FROM sqlite_master WHERE name = 'alembic_version'"
        else:
            exists = "SELECT count(*) FROM pg_tables WHERE tablename = 'alembic_version'"
        if not await self._db.fetch_val(exists):
            return None
        value = await self._db.fetch_val("SELECT version_num FROM alembic_version")
        return str(value) if value is not None else None
