"""`conode backup FILE` and `conode restore FILE [--force]` (the file format: node/ops/backup.py).

The passphrase that encrypts the node secret is read from standard input (one line), or asked
for twice at a terminal. Restore refuses while a `serve` or `worker` of the node has a fresh
heartbeat (node/worker.py): it would keep writing to the database being replaced.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import getpass
import os
import sqlite3
import sys
import tempfile
from pathlib import Path

from node.federation import actors
from node.ops import backup, dump, restore_undo, secret_check, vault
from node.ops.backup import BackupError
from node.settings import Settings
from node.storage import (
    HEARTBEAT_FRESH,
    MIGRATIONS_DIR,
    Store,
    is_sqlite,
    migrate,
    redact,
    sqlite_path,
    utcnow,
)


def read_passphrase(*, confirm: bool) -> str:
    if not sys.stdin.isatty():
        return backup.check_passphrase(sys.stdin.readline().rstrip("\r\n"))
    passphrase = getpass.getpass("backup passphrase: ")
    if confirm and getpass.getpass("again: ") != passphrase:
        raise BackupError("the two passphrases differ")
    return backup.check_passphrase(passphrase)


async def _revision(database_url: str) -> str | None:
    store = Store(database_url)
    await store.connect()
    try:
        return await store.schema_revision()
    finally:
        await store.disconnect()


async def _dump(database_url: str) -> bytes:
    return b"".join([line async for line in dump.dump_rows(database_url)])


def _database_bytes(settings: Settings) -> tuple[str, bytes, dict[str, int]]:
    """The database member's name and bytes, and how many rows each table holds in it."""
    path = sqlite_path(settings.database_url)
    if path is None:
        data = asyncio.run(_dump(settings.database_url))
        return backup.DUMP_MEMBER, data, dump.dumped_counts(data.splitlines())
    with tempfile.TemporaryDirectory() as scratch:
        copy = Path(scratch) / "snapshot.db"
        dump.snapshot_sqlite(path, copy)
        counts = asyncio.run(dump.row_counts(f"sqlite:///{copy}"))
        return backup.SQLITE_MEMBER, copy.read_bytes(), counts


def _check_destination(file: Path) -> None:
    folder = file.resolve().parent
    if not folder.is_dir():
        raise BackupError(
            f"{folder} does not exist: create it first, or write the backup into a directory "
            "that exists"
        )
    if not os.access(folder, os.W_OK):
        raise BackupError(f"{folder} is not writable for this user: choose another directory")


def cmd_backup(settings: Settings, args: argparse.Namespace) -> int:
    _check_destination(Path(args.file))
    secret = asyncio.run(secret_check.load_checked_secret(settings))
    passphrase = read_passphrase(confirm=True)
    revision = asyncio.run(_revision(settings.database_url))
    if revision is None:
        raise BackupError("the database is not initialised: there is nothing to back up")
    member, data, counts = _database_bytes(settings)
    sealed = backup.seal_secret(secret, passphrase, backup.manifest_digest(data))
    kind = "sqlite" if is_sqlite(settings.database_url) else "postgresql"
    meta = backup.manifest(
        database=kind, member=member, revision=revision, data=data, secret=sealed, row_counts=counts
    )
    backup.write_archive(Path(args.file), backup.Archive(meta, data, member))
    print(
        f"backup written to {args.file}: {kind} database at schema {revision} "
        f"({len(data) // 1024} KiB) and the node secret, encrypted with your passphrase"
    )
    return 0


def _upgrade(database_url: str, revision: str) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["database_url"] = database_url
    command.upgrade(config, revision)


def _restore_sqlite_file(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=".conode-restore-", dir=path.parent)
    with os.fdopen(fd, "wb") as file:
        file.write(data)
        file.flush()
        os.fsync(file.fileno())
    with sqlite3.connect(temporary) as connection:
        connection.execute("PRAGMA journal_mode=WAL")
    for stale in (Path(f"{path}-wal"), Path(f"{path}-shm")):
        stale.unlink(missing_ok=True)
    os.replace(temporary, path)


def _expected_counts(archive: backup.Archive) -> dict[str, int]:
    """The rows per table the backup holds: listed in its manifest (backups made before that
    list existed are counted from the database member itself)."""
    listed = archive.manifest.get("row_counts")
    if isinstance(listed, dict):
        return {str(table): int(count) for table, count in listed.items()}
    if archive.member == backup.DUMP_MEMBER:
        return dump.dumped_counts(archive.database.splitlines())
    with tempfile.TemporaryDirectory() as scratch:
        copy = Path(scratch) / "backup.db"
        copy.write_bytes(archive.database)
        return asyncio.run(dump.row_counts(f"sqlite:///{copy}"))


def _check_counts(database_url: str, expected: dict[str, int]) -> None:
    """Read back every table's row count at the backup's revision, before migrating."""
    mismatch = dump.count_mismatch(expected, asyncio.run(dump.row_counts(database_url)))
    if mismatch is not None:
        raise BackupError(
            f"the restore was undone: {mismatch}; nothing was changed, "
            "try again with another backup of this node"
        )


def _restore_database(settings: Settings, archive: backup.Archive, force: bool) -> None:
    url, path = settings.database_url, sqlite_path(settings.database_url)
    exists = path.exists() if path is not None else asyncio.run(dump.has_tables(url))
    if exists and not force:
        raise BackupError(
            f"{redact(url)} already holds a database: restore into an empty one, "
            "or add --force to replace it"
        )
    expected = _expected_counts(archive)
    if archive.member == backup.SQLITE_MEMBER and path is None:
        archive = _as_dump(archive)  # SQLite into PostgreSQL: moved row by row
    if archive.member == backup.SQLITE_MEMBER:
        assert path is not None
        _restore_sqlite_file(path, archive.database)
    else:
        if path is not None:
            path.unlink(missing_ok=True)
            path.parent.mkdir(parents=True, exist_ok=True)
        elif exists:
            asyncio.run(dump.drop_tables(url))
        _upgrade(url, str(archive.manifest["schema_revision"]))
        asyncio.run(dump.load_rows(url, archive.database.splitlines()))
    _check_counts(url, expected)
    migrate(url)


def _as_dump(archive: backup.Archive) -> backup.Archive:
    """A SQLite backup as the row dump a PostgreSQL backup holds (node/ops/dump.py)."""
    with tempfile.TemporaryDirectory() as scratch:
        copy = Path(scratch) / "backup.db"
        copy.write_bytes(archive.database)
        rows = asyncio.run(_dump(f"sqlite:///{copy}"))
    return backup.Archive(archive.manifest, rows, backup.DUMP_MEMBER)


def _check_secret(settings: Settings, secret: bytes, force: bool) -> None:
    path = settings.secret_path
    if path.exists() and vault.load_secret(path) != secret and not force:
        raise BackupError(
            f"{path} holds a different node secret: move it away, or add --force to replace it"
        )


def _write_secret(settings: Settings, secret: bytes) -> None:
    """The same file `conode init` writes (base64, mode 0600), replaced atomically."""
    path = settings.secret_path
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=".node-secret-", dir=path.parent)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "wb") as file:
        file.write(base64.b64encode(secret) + b"\n")
    os.replace(temporary, path)


async def _check_keys(settings: Settings, secret: bytes) -> int:
    store = Store(settings.database_url)
    await store.connect()
    try:
        rows = await store.local_actors()
    finally:
        await store.disconnect()
    for row in rows:
        actors.private_key(actors.local_actor(settings, row), secret)  # raises VaultError
    return len(rows)


async def _running_processes(database_url: str) -> list[dict[str, object]]:
    path = sqlite_path(database_url)
    if path is not None and not path.exists():
        return []
    store = Store(database_url)
    await store.connect()
    try:
        return await store.heartbeats_since(utcnow() - HEARTBEAT_FRESH)
    finally:
        await store.disconnect()


def _refuse_while_running(settings: Settings) -> None:
    """A running serve or worker keeps the database open: a restore under it would be lost."""
    running = asyncio.run(_running_processes(settings.database_url))
    if running:
        names = ", ".join(
            f"conode {row['process']} on {row['host']} ({row['name']})" for row in running
        )
        raise BackupError(
            f"{names} still uses {redact(settings.database_url)}: stop it first "
            "(systemctl stop, or Ctrl-C), then restore"
        )


def cmd_restore(settings: Settings, args: argparse.Namespace) -> int:
    _refuse_while_running(settings)
    archive = backup.read_archive(Path(args.file))
    backup.verify(archive)
    passphrase = read_passphrase(confirm=False)
    digest = backup.manifest_digest(archive.database)
    secret = backup.open_secret(archive.manifest["secret"], passphrase, digest)
    _check_secret(settings, secret, args.force)
    with restore_undo.undo_on_failure(settings.database_url, settings.secret_path):
        _restore_database(settings, archive, args.force)
        _write_secret(settings, secret)
        count = asyncio.run(_check_keys(settings, secret))
    print(
        f"restored {args.file} (schema {archive.manifest['schema_revision']}, made "
        f"{archive.manifest['created_at']}) into {redact(settings.database_url)}; "
        f"the node secret opens all {count} actors' keys"
    )
    return 0


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    made = commands.add_parser(
        "backup", help="write a consistent online backup of the database and the node secret"
    )
    made.add_argument("file", help="the backup file to write (mode 0600)")
    made.set_defaults(handler=cmd_backup, needs_schema=False)
    restore = commands.add_parser("restore", help="restore a backup written by `conode backup`")
    restore.add_argument("file", help="the backup file")
    restore.add_argument(
        "--force", action="store_true", help="replace an existing database and node secret"
    )
    restore.set_defaults(handler=cmd_restore, needs_schema=False)
