"""`conode backup` and `conode restore`, run as the operator runs them: an online backup taken
while the node writes, restored into an empty database and keys directory, brings back every
row and a secret that opens every key; the secret never appears in clear in the file; a wrong
passphrase, a changed file or an occupied target is refused with nothing changed."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import gzip
import os
import sqlite3
import sys
from pathlib import Path

import pytest

from node.moderation import rules as moderation
from node.ops import vault
from node.settings import Settings
from node.storage import Store, sqlite_path

from .conftest import SHARED_INBOX, Network

PASSPHRASE = "correct horse battery staple"


async def conode(settings: Settings, *args: str, stdin: str = PASSPHRASE) -> tuple[int, str]:
    env = os.environ | {
        "CONODE_URL": settings.url,
        "CONODE_DATABASE_URL": settings.database_url,
        "CONODE_KEYS_DIR": str(settings.keys_dir),
    }
    process = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "node.cli", *args),
        env=env,
        cwd=settings.keys_dir.parent,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate((stdin + "\n").encode())
    assert process.returncode is not None
    return process.returncode, output.decode()


async def _fill(net: Network) -> None:
    """A post, an approved comment and a follower."""
    post_id = await net.post()
    await net.mastodon.send("alice", net.mastodon.reply("alice", post_id, "hi"), SHARED_INBOX)
    await net.mastodon.send(
        "bob", net.mastodon.follow("bob", f"{net.node.settings.url}/users/ben"), SHARED_INBOX
    )
    await net.drain()
    for note in await net.node.store.notes_with_status("pending"):
        await moderation.set_comment_status(net.node.store, note.id or 0, "approved")


async def _census(database_url: str) -> dict[str, int]:
    store = Store(database_url)
    await store.connect()
    try:
        ben = await store.local_actor("ben")
        assert ben is not None
        return {
            "actors": len(await store.local_actors()),
            "posts": await store.count_posts(),
            "comments": len(await store.notes_with_status("approved")),
            "followers": await store.follower_count(ben.id),
            "log": len(await store.log_entries(limit=100_000)),
        }
    finally:
        await store.disconnect()


@pytest.fixture
def restored(empty_database_url: str, tmp_path: Path, settings: Settings) -> Settings:
    keys_dir = tmp_path / "restored" / "keys"
    keys_dir.parent.mkdir()
    return dataclasses.replace(settings, database_url=empty_database_url, keys_dir=keys_dir)


async def test_an_online_backup_restores_everything_with_its_keys(
    network: Network, settings: Settings, restored: Settings, tmp_path: Path
) -> None:
    # Given a node with content, still writing while the backup is taken
    await _fill(network)
    before = await _census(settings.database_url)
    writing = True

    async def keep_writing() -> None:
        while writing:
            await network.node.store.log("inbound", "accepted", "written during the backup")

    writer = asyncio.create_task(keep_writing())
    file = tmp_path / "node.backup"
    status, output = await conode(settings, "backup", str(file))
    writing = False
    await writer
    assert status == 0, output
    after = await _census(settings.database_url)
    # Then the file is private and holds the secret only encrypted
    assert file.stat().st_mode & 0o777 == 0o600
    raw = gzip.decompress(file.read_bytes())
    secret = vault.load_secret(settings.secret_path)
    assert secret not in raw and base64.b64encode(secret) not in raw
    # When it is restored into an empty database and keys directory
    status, output = await conode(restored, "restore", str(file))
    assert status == 0, output
    assert "opens all 3 actors' keys" in output
    # Then everything is back, as one consistent snapshot, with the same secret
    census = await _census(restored.database_url)
    assert {k: v for k, v in census.items() if k != "log"} == {
        k: v for k, v in before.items() if k != "log"
    }
    assert before["log"] <= census["log"] <= after["log"]
    assert vault.load_secret(restored.secret_path) == secret
    assert restored.secret_path.stat().st_mode & 0o777 == 0o600
    # And the restored node keeps working (PostgreSQL's id sequences moved past the rows)
    store = Store(restored.database_url)
    await store.connect()
    await store.log("inbound", "accepted", "after the restore")
    await store.disconnect()
    path = sqlite_path(restored.database_url)
    if path is not None:
        with sqlite3.connect(path) as connection:
            assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)


async def test_a_wrong_passphrase_restores_nothing(
    network: Network, settings: Settings, restored: Settings, tmp_path: Path
) -> None:
    file = tmp_path / "node.backup"
    assert (await conode(settings, "backup", str(file)))[0] == 0
    status, output = await conode(restored, "restore", str(file), stdin="not the passphrase")
    assert status == 2 and "passphrase is wrong" in output
    assert not restored.secret_path.exists()
    assert not (await _exists(restored))


async def test_a_changed_backup_is_refused(
    network: Network, settings: Settings, restored: Settings, tmp_path: Path
) -> None:
    file = tmp_path / "node.backup"
    assert (await conode(settings, "backup", str(file)))[0] == 0
    data = bytearray(file.read_bytes())
    data[len(data) // 2] ^= 0xFF
    file.write_bytes(bytes(data))
    status, output = await conode(restored, "restore", str(file))
    assert status == 2 and "backup" in output
    assert not restored.secret_path.exists()


async def test_restore_will_not_replace_a_database_without_force(
    network: Network, settings: Settings, tmp_path: Path
) -> None:
    file = tmp_path / "node.backup"
    assert (await conode(settings, "backup", str(file)))[0] == 0
    await network.post(title="written after the backup")
    status, output = await conode(settings, "restore", str(file))
    assert status == 2 and "--force" in output
    assert (await _census(settings.database_url))["posts"] == 1


async def test_a_short_passphrase_is_refused(
    network: Network, settings: Settings, tmp_path: Path
) -> None:
    status, output = await conode(settings, "backup", str(tmp_path / "b"), stdin="short")
    assert status == 2 and "at least" in output
    assert not (tmp_path / "b").exists()


async def _exists(settings: Settings) -> bool:
    from node.ops import dump

    path = sqlite_path(settings.database_url)
    return path.exists() if path is not None else await dump.has_tables(settings.database_url)
