"""`conode restore --force` while the node runs: refused, naming the running process and its
host, with nothing changed; once the process has stopped (its heartbeat row goes with it), the
same restore goes through. Real `conode serve` and `conode worker` processes."""

from __future__ import annotations

import asyncio
import socket
import subprocess
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from node.storage import Store, utcnow

from ..processes import CONODE, ServedNode, initialised_node, wait_until

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
