"""`conode restore` moves a node between engines: a SQLite node's backup restored into
PostgreSQL serves the same posts, members and keys, and that node's backup restored back into
SQLite does too. Real `conode` processes; needs PostgreSQL (CONODE_TEST_DATABASE_URL)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ..conftest import free_port
from ..processes import PG_ENV, ServedNode, fresh_database, init_node, node_env

PASSPHRASE = "correct horse battery staple\n"


def _node(directory: Path, database_url: str, url: str) -> ServedNode:
    directory.mkdir()
    return ServedNode(directory.name, url, node_env(database_url, directory, url), directory)


def _move(source: ServedNode, target: ServedNode, file: Path) -> None:
    made = source.run("backup", str(file), stdin=PASSPHRASE)
    assert made.returncode == 0, made.stderr
    restored = target.run("restore", str(file), stdin=PASSPHRASE)
    assert restored.returncode == 0, restored.stderr
    assert "opens all 3 actors' keys" in restored.stdout


def _served(node: ServedNode, post_id: str) -> tuple[str, str]:
    """The post's title as served, and ann's public key."""
    node.start()
    try:
        page = node.get(post_id).text
        actor = node.get(f"{node.url}/users/ann", activity_json=True).json()
        return ("Canal path cleared" if "Canal path cleared" in page else ""), str(
            actor["publicKey"]["publicKeyPem"]
        )
    finally:
        node.stop()


@pytest.mark.skipif(
    not os.environ.get(PG_ENV), reason="moving between engines needs PostgreSQL (CI's pass)"
)
def test_a_sqlite_node_moves_to_postgresql_and_back(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    # Given a node on SQLite with a member and a post
    sqlite = _node(tmp_path / "sqlite", f"sqlite:///{tmp_path / 'sqlite' / 'conode.db'}", url)
    init_node(sqlite, "ann")
    post_id = sqlite.ok(
        "post", "create", "ann", "--kind", "report",
        "--title", "Canal path cleared", "--body", "Twelve of us.",
    ).strip()  # fmt: skip
    before = _served(sqlite, post_id)
    assert before[0] == "Canal path cleared"
    with fresh_database(tmp_path) as postgresql_url:
        # When its backup is restored into PostgreSQL
        postgresql = _node(tmp_path / "postgresql", postgresql_url, url)
        _move(sqlite, postgresql, tmp_path / "sqlite.backup")
        # Then the node serves the same post with the same keys
        assert _served(postgresql, post_id) == before
        # And that node's backup restores back into SQLite
        back = _node(tmp_path / "back", f"sqlite:///{tmp_path / 'back' / 'conode.db'}", url)
        _move(postgresql, back, tmp_path / "postgresql.backup")
        assert _served(back, post_id) == before
