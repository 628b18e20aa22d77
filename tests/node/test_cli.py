"""The operator interface, driven as an operator would: the installed `conode` command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from ..conftest import free_port

CONODE = [sys.executable, "-m", "node.cli"]


@pytest.fixture
def env(empty_database_url: str, tmp_path: Path) -> dict[str, str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("CONODE_")}
    environ.update(
        CONODE_DATABASE_URL=empty_database_url,
        CONODE_KEYS_DIR=str(tmp_path / "keys"),
        CONODE_NAME="Riverside Timebank",
    )
    return environ


def conode(
    env: dict[str, str], *args: str, stdin: str | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CONODE, *args], env=env, input=stdin, capture_output=True, text=True, timeout=60, cwd=cwd
    )


def test_init_creates_keys_schema_and_actors_and_is_idempotent(
    env: dict[str, str], tmp_path: Path
) -> None:
    first = conode(env, "init")
    assert first.returncode == 0, first.stderr
    assert "created node secret" in first.stdout
    assert "created database schema" in first.stdout
    assert "created group actor @community@127.0.0.1:8000" in first.stdout
    secret = tmp_path / "keys" / "node.secret"
    assert secret.stat().st_mode & 0o777 == 0o600
    content = secret.read_bytes()

    second = conode(env, "init")
    assert second.returncode == 0, second.stderr
    assert "nothing to do" in second.stdout
    assert secret.read_bytes() == content


def test_user_create_and_list(env: dict[str, str]) -> None:
    assert conode(env, "init").returncode == 0
    admin = conode(env, "user", "create", "alice", "--admin", "--display-name", "Alice A")
    assert admin.returncode == 0, admin.stderr
    assert "created admin @alice@127.0.0.1:8000" in admin.stdout
    assert "password: " in admin.stdout
    member = conode(
        env, "user", "create", "bob", "--password-stdin", stdin="correct horse battery\n"
    )
    assert member.returncode == 0, member.stderr
    assert "password" not in member.stdout

    listing = conode(env, "user", "list", "--json")
    users = json.loads(listing.stdout)
    assert [(u["username"], u["admin"]) for u in users] == [("alice", True), ("bob", False)]
    assert [(u["moderator"], u["suspended"], u["deleted"]) for u in users] == [
        (True, False, False),
        (False, False, False),
    ]
    assert users[0]["id"] == "http://127.0.0.1:8000/users/alice"
    assert users[0]["display_name"] == "Alice A"


def test_user_create_refuses_duplicates_reserved_and_bad_names(env: dict[str, str]) -> None:
    assert conode(env, "init").returncode == 0
    assert conode(env, "user", "create", "carol").returncode == 0
    for name, reason in [
        ("carol", "already exists"),
        ("community", "reserved"),
        ("Bad Name", "not allowed"),
    ]:
        result = conode(env, "user", "create", name)
        assert result.returncode == 2
        assert reason in result.stderr
        assert "Traceback" not in result.stderr


def test_commands_before_init_say_to_run_init(env: dict[str, str]) -> None:
    result = conode(env, "user", "create", "dave")
    assert result.returncode == 2
    assert "conode init" in result.stderr


def test_unreachable_database_fails_fast_with_the_url_password_hidden(
    env: dict[str, str],
) -> None:
    env["CONODE_DATABASE_URL"] = "postgresql://conode:hunter2@127.0.0.1:1/conode"
    started = time.monotonic()
    result = conode(env, "init")
    assert result.returncode == 2
    assert "127.0.0.1:1/conode" in result.stderr
    assert "hunter2" not in result.stderr
    assert time.monotonic() - started < 30


def test_bad_settings_are_explained(env: dict[str, str]) -> None:
    env["CONODE_COMMENT_POLICY"] = "sometimes"
    result = conode(env, "init")
    assert result.returncode == 2
    assert "hold_all, hold_new, open" in result.stderr


@pytest.mark.parametrize(
    "command",
    [[], ["init"], ["serve"], ["worker"], ["user"], ["user", "create"], ["user", "list"]],
)
def test_every_command_has_help(command: list[str]) -> None:
    result = subprocess.run([*CONODE, *command, "--help"], capture_output=True, text=True)
    assert result.returncode == 0
    assert "usage: conode" in result.stdout


@pytest.fixture
def served(env: dict[str, str]) -> Iterator[str]:
    """A real `conode serve` process on a loopback port."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env["CONODE_URL"] = base
    assert conode(env, "init").returncode == 0
    assert conode(env, "user", "create", "ben").returncode == 0
    process = subprocess.Popen(
        [*CONODE, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{base}/.well-known/nodeinfo", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            raise AssertionError("conode serve did not come up")
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_serve_answers_webfinger_and_actor_over_real_http(served: str) -> None:
    host = served.removeprefix("http://")
    jrd = httpx.get(f"{served}/.well-known/webfinger", params={"resource": f"acct:ben@{host}"})
    assert jrd.status_code == 200
    (self_link,) = [link for link in jrd.json()["links"] if link["rel"] == "self"]
    actor = httpx.get(self_link["href"], headers={"Accept": "application/activity+json"})
    assert actor.json()["id"] == f"{served}/users/ben"


def test_serve_refuses_an_uninitialised_database(env: dict[str, str]) -> None:
    result = conode(env, "serve", "--port", str(free_port()))
    assert result.returncode == 2
    assert "conode init" in result.stderr
