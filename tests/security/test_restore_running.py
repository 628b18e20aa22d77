"""`conode restore --force` while the node runs: refused, naming the running process and its
host, with nothing changed; once the process has stopped (its heartbeat row goes with it), the
same restore goes through. Real `conode serve` and `conode worker` processes."""

from __future__ import annotations

import asyncio
import dataclasses
import secrets
import socket
import subprocess
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from node.ops import backup, dump
from node.storage import Store, sqlite_path, utcnow

from ..processes import (
    CONODE,
    ServedNode,
    fresh_database,
    initialised_node,
    node_env,
    wait_until,
)

PASSPHRASE = "correct horse battery staple\n"


@pytest.fixture
def node(tmp_path: Path) -> Iterator[ServedNode]:
    with initialised_node(tmp_path, "ann") as served:
        yield served


def _restore(node: ServedNode, file: Path) -> subprocess.CompletedProcess[str]:
    return node.run("restore", str(file), "--force", stdin=PASSPHRASE)


def _backup(node: ServedNode, file: Path) -> None:
    result = node.run("backup", str(file), stdin=PASSPHRASE)
    assert result.returncode == 0, result.stderr


async def _heartbeats(node: ServedNode) -> int:
    store = Store(node.env["CONODE_DATABASE_URL"])
    await store.connect()
    try:
        return len(await store.heartbeats_since(utcnow() - timedelta(minutes=1)))
    finally:
        await store.disconnect()


def test_restore_refuses_while_serve_runs_and_works_once_it_stopped(
    node: ServedNode, tmp_path: Path
) -> None:
    # Given a backup, a running node, and a post made after the backup
    file = tmp_path / "node.backup"
    _backup(node, file)
    node.start()
    node.ok("post", "create", "ann", "--kind", "blog", "--title", "After", "--body", "kept")
    # When the operator restores over it without stopping it
    result = _restore(node, file)
    # Then the restore is refused, naming the process and its host, and the post is still there
    assert result.returncode == 2, result.stdout
    assert f"conode serve on {socket.gethostname()}" in result.stderr, result.stderr
    assert "stop it first" in result.stderr
    assert "Traceback" not in result.stderr
    assert "After" in node.get("/@ann").text
    # When the node is stopped, the same restore goes through
    node.stop()
    result = _restore(node, file)
    assert result.returncode == 0, result.stderr
    assert "restored" in result.stdout


def test_restore_refuses_while_a_worker_runs(node: ServedNode, tmp_path: Path) -> None:
    file = tmp_path / "node.backup"
    _backup(node, file)
    worker = subprocess.Popen(
        [*CONODE, "worker"],
        env=node.env,
        cwd=node.directory,
        stdout=(tmp_path / "worker.log").open("wb"),
        stderr=subprocess.STDOUT,
    )
    try:
        wait_until(lambda: asyncio.run(_heartbeats(node)) or None, "the worker's heartbeat")
        result = _restore(node, file)
        log = (tmp_path / "worker.log").read_text()
        assert result.returncode == 2, (result.stdout, result.stderr, log)
        assert f"conode worker on {socket.gethostname()}" in result.stderr
    finally:
        worker.terminate()
        worker.wait(timeout=15)


def test_a_failed_restore_leaves_the_target_as_it_found_it(
    node: ServedNode, tmp_path: Path
) -> None:
    # Given a good backup, and one whose secret opens none of its keys
    good, bad = tmp_path / "good.backup", tmp_path / "bad.backup"
    _backup(node, good)
    archive = backup.read_archive(good)
    digest = backup.manifest_digest(archive.database)
    wrong = backup.seal_secret(secrets.token_bytes(32), PASSPHRASE.strip(), digest)
    backup.write_archive(
        bad, dataclasses.replace(archive, manifest={**archive.manifest, "secret": wrong})
    )
    target_dir = tmp_path / "target"
    target_dir.mkdir()
    with fresh_database(target_dir) as database_url:
        target = ServedNode("T", node.url, node_env(database_url, target_dir, node.url), target_dir)
        # When the bad one is restored into an empty database and keys directory
        result = target.run("restore", str(bad), stdin=PASSPHRASE)
        # Then it fails with a sentence and leaves nothing behind
        assert result.returncode == 2, result.stdout
        assert "does not open" in result.stderr and "Traceback" not in result.stderr
        assert not (target_dir / "keys" / "node.secret").exists()
        assert not asyncio.run(_has_database(database_url))
        # And the retry with the good backup goes through
        retry = target.run("restore", str(good), stdin=PASSPHRASE)
        assert retry.returncode == 0, retry.stderr


async def _has_database(database_url: str) -> bool:
    path = sqlite_path(database_url)
    return path.exists() if path is not None else await dump.has_tables(database_url)
