"""Tables and every query. The only module that writes SQL or knows about `databases`."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import sqlalchemy as sa
from databases import Database

logger = logging.getLogger(__name__)

metadata = sa.MetaData()

local_actors = sa.Table(
    "local_actors",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("username", sa.String(64), nullable=False, unique=True),
    sa.Column("kind", sa.String(16), nullable=False),  # Person | Group | Application
    sa.Column("display_name", sa.String(200), nullable=False),
    sa.Column("summary", sa.Text, nullable=False, server_default=""),
    sa.Column("is_admin", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("password_hash", sa.String(200), nullable=True),
    sa.Column("public_key_pem", sa.Text, nullable=False),
    sa.Column("private_key_sealed", sa.Text, nullable=False),  # AES-GCM, see node/vault.py
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)


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


def utcnow() -> datetime:
    return datetime.now(UTC)


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; everything we store is UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class LocalActorRow:
    id: int
    username: str
    kind: str
    display_name: str
    summary: str
    is_admin: bool
    password_hash: str | None
    public_key_pem: str
    private_key_sealed: str
    created_at: datetime


def _local_actor(row: Any) -> LocalActorRow:
    data = dict(row._mapping)
    data["created_at"] = _aware(data["created_at"])
    data["is_admin"] = bool(data["is_admin"])
    return LocalActorRow(**data)


class Store:
    """One database: connection lifecycle plus the queries the node needs."""

    def __init__(self, database_url: str) -> None:
        self.url = database_url
        options: dict[str, Any] = {}
        if is_sqlite(database_url):
            options["timeout"] = 30  # seconds to wait on a locked database
        else:
            options["min_size"] = 1
            options["max_size"] = 10
        self._db = Database(async_url(database_url), **options)

    async def connect(self) -> None:
        path = sqlite_path(self.url)
        if path is not None and not path.exists():
            raise DatabaseUrlError(f"no database at {path}: run `conode init` first")
        try:
            await self._db.connect()
            await self._db.fetch_val(sa.text("SELECT 1"))
        except (OSError, sqlite3.Error, asyncpg.PostgresError) as exc:
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

    # local actors

    async def insert_local_actor(
        self,
        *,
        username: str,
        kind: str,
        display_name: str,
        public_key_pem: str,
        private_key_sealed: str,
        is_admin: bool = False,
        password_hash: str | None = None,
        summary: str = "",
    ) -> LocalActorRow:
        values = {
            "username": username,
            "kind": kind,
            "display_name": display_name,
            "summary": summary,
            "is_admin": is_admin,
            "password_hash": password_hash,
            "public_key_pem": public_key_pem,
            "private_key_sealed": private_key_sealed,
            "created_at": utcnow(),
        }
        await self._db.execute(local_actors.insert().values(**values))
        row = await self.local_actor(username)
        assert row is not None
        return row

    async def local_actor(self, username: str) -> LocalActorRow | None:
        query = sa.select(local_actors).where(local_actors.c.username == username.lower())
        row = await self._db.fetch_one(query)
        return _local_actor(row) if row else None

    async def local_actor_of_kind(self, kind: str) -> LocalActorRow | None:
        query = sa.select(local_actors).where(local_actors.c.kind == kind).limit(1)
        row = await self._db.fetch_one(query.order_by(local_actors.c.id))
        return _local_actor(row) if row else None

    async def local_actors(self, kind: str | None = None) -> list[LocalActorRow]:
        query = sa.select(local_actors).order_by(local_actors.c.id)
        if kind is not None:
            query = query.where(local_actors.c.kind == kind)
        return [_local_actor(row) for row in await self._db.fetch_all(query)]

    async def count_local_actors(self, kind: str) -> int:
        query = sa.select(sa.func.count()).select_from(local_actors)
        value = await self._db.fetch_val(query.where(local_actors.c.kind == kind))
        return int(value or 0)


# schema


MIGRATIONS_DIR = Path(__file__).parent / "migrations"


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
