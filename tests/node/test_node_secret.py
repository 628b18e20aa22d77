"""The node secret cannot be silently replaced: driven as an operator would, with real `conode`
processes. A lost or different `keys/node.secret` makes `init` stop without writing anything,
makes `serve`, `worker` and `backup` refuse to start, and a worker that meets a key its secret
cannot open says so in the delivery log instead of failing in a loop."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import secrets
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from activitypub import keys
from node.ops import vault

from ..conftest import free_port
from ..processes import (
    CONODE,
    ServedNode,
    initialised_node,
    printed_on_failure,
    serving_nodes,
    wait_until,
)

SENTENCE = "does not open the keys sealed in this database"
ADVICE = "conode restore"


@pytest.fixture
def node(tmp_path: Path) -> Iterator[ServedNode]:
    """An initialised node with the member ann (not serving)."""
    with initialised_node(tmp_path, "ann") as served:
        yield served


def _secret_path(node: ServedNode) -> Path:
    return Path(node.env["CONODE_KEYS_DIR"]) / "node.secret"


def _other_secret() -> bytes:
    return base64.b64encode(secrets.token_bytes(vault.SECRET_BYTES)) + b"\n"


def _run(node: ServedNode, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """A command that must end by itself; a short timeout, since a `worker` that does not
    refuse would run forever."""
    return subprocess.run(
        [*CONODE, *args],
        env=node.env,
        cwd=node.directory,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=30,
    )


def _refused(result: subprocess.CompletedProcess[str], sentence: str) -> None:
    assert result.returncode != 0, result.stdout
    assert sentence in result.stderr, result.stderr
    assert "Traceback" not in result.stderr, result.stderr


def test_init_refuses_to_make_a_new_secret_for_a_database_holding_sealed_keys(
    node: ServedNode,
) -> None:
    # Given an operator who lost keys/node.secret
    _secret_path(node).unlink()
    # When they run `conode init`, as the old error advised
    result = _run(node, "init")
    # Then it stops with a sentence that says what to do, and writes no new secret
    _refused(result, "holds keys sealed with a node secret")
    assert "node.secret" in result.stderr and ADVICE in result.stderr
    assert not _secret_path(node).exists()


def test_init_refuses_a_different_secret(node: ServedNode) -> None:
    other = _other_secret()
    _secret_path(node).write_bytes(other)
    _refused(_run(node, "init"), SENTENCE)
    assert _secret_path(node).read_bytes() == other


@pytest.mark.parametrize(
    "command", [["serve", "--port", "0"], ["worker"], ["backup", "node.backup"]]
)
def test_serve_worker_and_backup_refuse_a_secret_that_opens_no_key(
    node: ServedNode, command: list[str]
) -> None:
    _secret_path(node).write_bytes(_other_secret())
    if command[0] == "serve":
        command = ["serve", "--port", str(free_port())]
    result = _run(node, *command, stdin="correct horse battery staple\n")
    _refused(result, SENTENCE)
    assert ADVICE in result.stderr
    assert not (node.directory / "node.backup").exists()


def test_the_right_secret_still_starts_a_worker(node: ServedNode) -> None:
    with pytest.raises(subprocess.TimeoutExpired):
        subprocess.run([*CONODE, "worker"], env=node.env, cwd=node.directory, timeout=5)


async def _reseal(database_url: str, username: str) -> None:
    """Seal `username`'s key under another secret, as a `conode user create` run with a
    different keys directory would have done."""
    sealed = vault.seal(secrets.token_bytes(32), username, keys.generate_private_pem())
    if database_url.startswith("sqlite:///"):
        with contextlib.closing(sqlite3.connect(database_url.removeprefix("sqlite:///"))) as db:
            db.execute(
                "UPDATE local_actors SET private_key_sealed = ? WHERE username = ?",
                (sealed, username),
            )
            db.commit()
        return
    connection = await asyncpg.connect(database_url)
    try:
        await connection.execute(
            "UPDATE local_actors SET private_key_sealed = $1 WHERE username = $2",
            sealed,
            username,
        )
    finally:
        await connection.close()


def test_a_worker_that_cannot_sign_says_why_in_the_delivery_log(tmp_path: Path) -> None:
    with (
        serving_nodes(tmp_path, ("a", "ann"), ("b", "ben")) as (a, b),
        printed_on_failure(a, b),
    ):
        # Given ben on B follows ann on A
        b.ok("follow", "ben", f"@ann@{a.host}")
        wait_until(
            lambda: a.get("/users/ann/followers", activity_json=True).json()["totalItems"] == 1,
            "A to count ben as ann's follower",
        )
        # When ann's key turns out sealed under another secret, and she posts
        asyncio.run(_reseal(a.env["CONODE_DATABASE_URL"], "ann"))
        a.ok("post", "create", "ann", "--kind", "blog", "--title", "Hello", "--body", "Hi")

        # Then A's delivery log says why nothing went out
        def unsigned() -> list[dict[str, Any]] | None:
            entries = a.json("log", "--deliveries")
            found = [e for e in entries if "cannot sign" in (e["reason"] or "")]
            return found or None

        (entry, *_) = wait_until(unsigned, "A to log that it cannot sign", explain=a.output)
        assert entry["outcome"] == "retry", entry
        assert "the node secret does not open the key of ann" in entry["reason"]
        # And the worker did not fail its passes with a traceback
        assert "Traceback" not in a.output()
