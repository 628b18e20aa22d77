"""`conode restore` moves a node between engines: a SQLite node's backup restored into
PostgreSQL serves the same posts, comments, followers, keys and ledger (a Mastodon-shaped
follower still verifies the signature of what the moved node delivers), and that node's
backup restored back into SQLite does too. Every restore reads back each table's row count
and fails, naming the table, when one differs from the backup. Real `conode` processes; the
move needs PostgreSQL (CONODE_TEST_DATABASE_URL)."""

from __future__ import annotations

import io
import json
import os
import tarfile
from pathlib import Path
from typing import Any

import pytest

from ..conftest import free_port
from ..fediverse import FakeServer
from ..peer import send, served_peer
from ..processes import PG_ENV, ServedNode, fresh_database, init_node, node_env, wait_until

PASSPHRASE = "correct horse battery staple\n"


def _node(directory: Path, database_url: str, url: str) -> ServedNode:
    directory.mkdir()
    return ServedNode(directory.name, url, node_env(database_url, directory, url), directory)


def _sqlite(directory: Path, url: str) -> ServedNode:
    return _node(directory, f"sqlite:///{directory / 'conode.db'}", url)


def _move(source: ServedNode, target: ServedNode, file: Path) -> None:
    made = source.run("backup", str(file), stdin=PASSPHRASE)
    assert made.returncode == 0, made.stderr
    restored = target.run("restore", str(file), stdin=PASSPHRASE)
    assert restored.returncode == 0, restored.stderr
    assert "opens all 4 actors' keys" in restored.stdout


def _fill(node: ServedNode, peer: FakeServer) -> str:
    """A report with an approved comment from the peer's alice, the peer's bob following ann,
    and an exchange of 2 hours between ann and ben; the report's id."""
    post_id = node.ok(
        "post", "create", "ann", "--kind", "report",
        "--title", "Canal path cleared", "--body", "Twelve of us.",
    ).strip()  # fmt: skip
    node.start()
    try:
        follow = peer.follow("bob", f"{node.url}/users/ann")
        assert send(peer, "bob", follow, f"{node.url}/inbox") == 202
        wait_until(lambda: peer.received("Accept"), "bob's Follow accepted", explain=node.output)
        reply = peer.reply("alice", post_id, "Thank you all")
        assert send(peer, "alice", reply, f"{node.url}/inbox") == 202
        wait_until(lambda: node.json("comments", "list"), "alice's comment", explain=node.output)
    finally:
        node.stop()
    (comment,) = node.json("comments", "list")
    node.ok("comments", "approve", str(comment["id"]))
    offer_id = node.ok(
        "post", "create", "ben", "--kind", "offer", "--title", "Help in your garden",
        "--body", "Weeding", "--hours", "2",
    ).strip()  # fmt: skip
    node.ok("reply", "ann", offer_id, "--body", "Saturday?")
    (offer,) = node.json("offers", "list")
    agreement_id = node.ok("offers", "match", offer_id, str(offer["responses"][0]["id"]))
    node.ok("offers", "complete", agreement_id.splitlines()[0], "--hours", "2")
    return post_id


def _census(node: ServedNode, post_id: str) -> dict[str, Any]:
    """What the node serves and says of itself: the post and its comment, ann's key, the
    comments, the ledger."""
    node.start()
    try:
        page = node.get(post_id).text
        actor = node.get(f"{node.url}/users/ann", activity_json=True).json()
        followers = node.get(f"{node.url}/users/ann/followers", activity_json=True).json()
    finally:
        node.stop()
    comments = node.json("comments", "list", "--status", "all")
    return {
        "post": "Canal path cleared" in page and "Thank you all" in page,
        "key": actor["publicKey"]["publicKeyPem"],
        "followers": followers["totalItems"],
        "comments": [(c["author"], c["status"]) for c in comments],
        "ledger": {b["handle"]: b["balance"] for b in node.json("ledger")},
    }


def _delivers_to_follower(node: ServedNode, peer: FakeServer, title: str) -> None:
    """ann posts; bob's server receives the Create and verifies its signature (it refuses,
    and records why, what it cannot verify)."""
    node.start()
    try:
        node.ok("post", "create", "ann", "--kind", "report", "--title", title, "--body", "Hi.")

        def arrived() -> bool:
            return any(title in json.dumps(a) for a in peer.received("Create"))

        wait_until(arrived, f"{title!r} delivered to bob", explain=node.output)
        assert peer.refused == []
    finally:
        node.stop()


@pytest.mark.skipif(
    not os.environ.get(PG_ENV), reason="moving between engines needs PostgreSQL (CI's pass)"
)
def test_a_sqlite_node_moves_to_postgresql_and_back(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with served_peer(free_port(), "alice", "bob") as peer:
        # Given a node on SQLite with posts, a comment, a follower on another server and hours
        sqlite = _sqlite(tmp_path / "sqlite", url)
        init_node(sqlite, "ann", "ben")
        post_id = _fill(sqlite, peer)
        before = _census(sqlite, post_id)
        assert before["post"] and before["followers"] == 1
        assert (peer.actor_id("alice"), "approved") in before["comments"]
        assert before["ledger"] == {"@ben": 2.0, "@ann": -2.0}
        with fresh_database(tmp_path) as postgresql_url:
            # When its backup is restored into PostgreSQL
            postgresql = _node(tmp_path / "postgresql", postgresql_url, url)
            _move(sqlite, postgresql, tmp_path / "sqlite.backup")
            # Then that node serves the same things, and bob still verifies what ann sends
            assert _census(postgresql, post_id) == before
            _delivers_to_follower(postgresql, peer, "Written after the move")
            # And its backup restores back into SQLite
            back = _sqlite(tmp_path / "back", url)
            _move(postgresql, back, tmp_path / "postgresql.backup")
            assert _census(back, post_id) == before
            _delivers_to_follower(back, peer, "Written after moving back")


def _with_manifest(source: Path, target: Path, change: dict[str, Any]) -> None:
    """A copy of a backup whose manifest lists different row counts."""
    with tarfile.open(source, "r:gz") as tar, tarfile.open(target, "w:gz") as out:
        for member in tar.getmembers():
            data = tar.extractfile(member).read()  # type: ignore[union-attr]
            if member.name == "manifest.json":
                manifest = json.loads(data)
                manifest["row_counts"] |= change
                data = json.dumps(manifest).encode()
            member.size = len(data)
            out.addfile(member, io.BytesIO(data))


def test_a_restore_whose_row_counts_differ_fails_naming_the_table(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    source = _sqlite(tmp_path / "source", url)
    init_node(source, "ann")
    source.ok("post", "create", "ann", "--kind", "blog", "--title", "One", "--body", "Two.")
    assert source.run("backup", str(tmp_path / "good"), stdin=PASSPHRASE).returncode == 0
    with tarfile.open(tmp_path / "good") as tar:
        listed = json.loads(tar.extractfile("manifest.json").read())["row_counts"]  # type: ignore[union-attr]
    assert listed["posts"] == 1
    # Given a backup that says it holds one post more than its database does
    _with_manifest(tmp_path / "good", tmp_path / "bad", {"posts": 2})
    with fresh_database(tmp_path / "target") as target_url:
        target = _node(tmp_path / "target", target_url, url)
        # When it is restored, the restore fails naming the table, and leaves nothing behind
        failed = target.run("restore", str(tmp_path / "bad"), stdin=PASSPHRASE)
        assert failed.returncode != 0
        assert "table posts holds 1 rows after the restore, but the backup has 2" in failed.stderr
        assert "Traceback" not in failed.stderr
        assert not (target.directory / "keys" / "node.secret").exists()
        # And the right backup then restores
        restored = target.run("restore", str(tmp_path / "good"), stdin=PASSPHRASE)
        assert restored.returncode == 0, restored.stderr
