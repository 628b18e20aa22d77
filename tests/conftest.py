"""Fixtures: a fresh database per test (SQLite, or PostgreSQL when CONODE_TEST_DATABASE_URL is
set), a node app on it, and an HTTP client that talks to the app through real HTTP semantics."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from starlette.applications import Starlette

from node.app import create_app
from node.federation import actors
from node.ops import vault
from node.settings import Settings
from node.storage import Store, migrate

TEST_URL = "https://conode.example"
PG_ENV = "CONODE_TEST_DATABASE_URL"


def _with_database(url: str, name: str) -> str:
    return url.rsplit("/", 1)[0] + "/" + name


async def _pg_execute(url: str, *statements: str) -> None:
    connection = await asyncpg.connect(url)
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


def _settings(database_url: str, keys_dir: Path) -> Settings:
    return Settings(
        url=TEST_URL,
        database_url=database_url,
        keys_dir=keys_dir,
        allow_private_networks=False,
        comment_policy="hold_new",
        name="Riverside Timebank",
        rate_limit=0,
        group_handle="community",
    )


async def _populate(settings: Settings) -> None:
    """The state `conode init` leaves, plus one member, ben."""
    secret = vault.load_secret(settings.secret_path)
    store = Store(settings.database_url)
    await store.connect()
    try:
        await actors.ensure_node_actors(store, settings, secret)
        await actors.create_actor(store, secret, username="ben", kind="Person", display_name="Ben")
    finally:
        await store.disconnect()


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """An initialised node to copy per test: migrations and key generation run once."""
    base = tmp_path_factory.mktemp("template")
    vault.create_secret(base / "keys" / "node.secret")
    pg_url = os.environ.get(PG_ENV)
    if not pg_url:
        settings = _settings(f"sqlite:///{base / 'template.db'}", base / "keys")
        migrate(settings.database_url)
        asyncio.run(_populate(settings))
        yield settings
        return
    name = f"conode_tmpl_{uuid.uuid4().hex[:10]}"
    asyncio.run(_pg_execute(pg_url, f"CREATE DATABASE {name}"))
    settings = _settings(_with_database(pg_url, name), base / "keys")
    migrate(settings.database_url)
    asyncio.run(_populate(settings))
    yield settings
    asyncio.run(_pg_execute(pg_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


@pytest.fixture
def database_url(template: Settings, tmp_path: Path) -> Iterator[str]:
    """A fresh copy of the template database for one test."""
    if template.database_url.startswith("sqlite"):
        path = tmp_path / "conode.db"
        shutil.copyfile(template.database_url.removeprefix("sqlite:///"), path)
        yield f"sqlite:///{path}"
        return
    name = f"conode_t_{uuid.uuid4().hex[:12]}"
    source = template.database_url.rsplit("/", 1)[1]
    admin = os.environ[PG_ENV]
    asyncio.run(_pg_execute(admin, f"CREATE DATABASE {name} TEMPLATE {source}"))
    yield _with_database(admin, name)
    asyncio.run(_pg_execute(admin, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


@pytest.fixture
def settings(template: Settings, database_url: str, tmp_path: Path) -> Settings:
    keys_dir = tmp_path / "keys"
    keys_dir.mkdir()
    shutil.copy2(template.secret_path, keys_dir / "node.secret")
    return _settings(database_url, keys_dir)


@pytest.fixture
async def store(settings: Settings) -> AsyncIterator[Store]:
    store = Store(settings.database_url)
    await store.connect()
    yield store
    await store.disconnect()


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[Starlette]:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=TEST_URL) as http:
        yield http


@pytest.fixture
def empty_database_url(tmp_path: Path) -> Iterator[str]:
    """A database with nothing in it, as on a fresh machine."""
    admin = os.environ.get(PG_ENV)
    if not admin:
        yield f"sqlite:///{tmp_path / 'data' / 'conode.db'}"
        return
    name = f"conode_e_{uuid.uuid4().hex[:12]}"
    asyncio.run(_pg_execute(admin, f"CREATE DATABASE {name}"))
    yield _with_database(admin, name)
    asyncio.run(_pg_execute(admin, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


_PORTS_GIVEN: set[int] = set()


def free_port() -> int:
    """A loopback port nobody listens on, never the same twice in one test run (the OS may
    hand a just-released port out again, and two servers on one port fail in confusing ways)."""
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port: int = sock.getsockname()[1]
        if port not in _PORTS_GIVEN:
            _PORTS_GIVEN.add(port)
            return port
