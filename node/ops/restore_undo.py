"""A restore that fails leaves the target as it found it.

Before `conode restore` writes anything, `undo_on_failure` sets aside what it may replace: the
SQLite file (with its -wal and -shm), whether a PostgreSQL database was empty, and the node
secret file. If the restore does not finish, those are put back, so a retry with the right
backup is not refused because of what the failed one left behind. (Replacing a PostgreSQL
database that held tables, with --force, cannot be undone here: take a backup first.)
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from node.storage import sqlite_path

from . import dump


def _sqlite_files(path: Path) -> list[Path]:
    return [path, Path(f"{path}-wal"), Path(f"{path}-shm")]


def _set_aside(path: Path | None, scratch: Path) -> list[Path]:
    """Copies of the SQLite files that exist now (the node is stopped, so a copy is whole)."""
    kept = []
    for file in _sqlite_files(path) if path is not None else []:
        if file.exists():
            shutil.copy2(file, scratch / file.name)
            kept.append(file)
    return kept


def _put_back(database_url: str, kept: list[Path], scratch: Path, was_empty: bool) -> None:
    path = sqlite_path(database_url)
    if path is not None:
        for file in _sqlite_files(path):
            file.unlink(missing_ok=True)
        for file in kept:
            shutil.copy2(scratch / file.name, file)
    elif was_empty:
        asyncio.run(dump.drop_tables(database_url))


@contextlib.contextmanager
def undo_on_failure(database_url: str, secret_path: Path) -> Iterator[None]:
    path = sqlite_path(database_url)
    secret_before = secret_path.read_bytes() if secret_path.exists() else None
    was_empty = path is None and not asyncio.run(dump.has_tables(database_url))
    with tempfile.TemporaryDirectory(prefix="conode-restore-") as directory:
        scratch = Path(directory)
        kept = _set_aside(path, scratch)
        finished = False
        try:
            yield
            finished = True
        finally:
            if not finished:
                _put_back(database_url, kept, scratch, was_empty)
                if secret_before is None:
                    secret_path.unlink(missing_ok=True)
                else:
                    secret_path.write_bytes(secret_before)
