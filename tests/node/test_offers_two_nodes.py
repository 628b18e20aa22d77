"""Two real `conode serve` processes (issue 4): an offer on node B is answered by a member of
node A, matched and completed over real HTTP; both nodes show the agreement and the hours."""

from __future__ import annotations

import asyncio
import functools
import json
import os
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ..conftest import PG_ENV, _pg_execute, _with_database, free_port
from .test_cli import CONODE, conode

WAIT_SECONDS = 30


def _database_url(tmp_path: Path, name: str) -> Iterator[str]:
    admin = os.environ.get(PG_ENV)
    if not admin:
        yield f"sqlite:///{tmp_path / name / 'conode.db'}"
        return
    database = f"conode_n_{uuid.uuid4().hex[:12]}"
    asyncio.run(_pg_execute(admin, f"CREATE DATABASE {database}"))
    yield _with_database(admin, database)
    asyncio.run(_pg_execute(admin, f"DROP DATABASE IF EXISTS {database} WITH (FORCE)"))


def _serve(tmp_path: Path, name: str, member: str) -> Iterator[dict[str, str]]:
    """A node of its own (database, keys, port) with one member, served until the test ends."""
    port = free_port()
    for database_url in _database_url(tmp_path, name):
        env = {k: v for k, v in os.environ.items() if not k.startswith("CONODE_")}
        env |= {
            "CONODE_URL": f"http://127.0.0.1:{port}",
            "CONODE_DATABASE_URL": database_url,
            "CONODE_KEYS_DIR": str(tmp_path / name / "keys"),
            "CONODE_ALLOW_PRIVATE_NETWORKS": "1",
        }
        assert conode(env, "init").returncode == 0
        assert conode(env, "user", "create", member).returncode == 0
        process = subprocess.Popen(
            [*CONODE, "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            _wait_for(functools.partial(_answers, env["CONODE_URL"]), "conode serve to come up")
            yield env
        finally:
            process.terminate()
            process.wait(timeout=10)


def _answers(base: str) -> bool:
    try:
        return httpx.get(f"{base}/.well-known/nodeinfo", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def _wait_for(check: Callable[[], Any], what: str) -> Any:
    """Real processes deliver on their own schedule: poll, bounded in time."""
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"gave up waiting for {what}")


@pytest.fixture
def node_a(tmp_path: Path) -> Iterator[dict[str, str]]:
    yield from _serve(tmp_path, "a", "ann")


@pytest.fixture
def node_b(tmp_path: Path) -> Iterator[dict[str, str]]:
    yield from _serve(tmp_path, "b", "ben")


def _run(env: dict[str, str], *args: str) -> str:
    result = conode(env, *args)
    assert result.returncode == 0, result.stderr
    return result.stdout


def _json(env: dict[str, str], *args: str) -> Any:
    return json.loads(_run(env, *args, "--json"))


def test_an_offer_on_node_b_is_taken_up_from_node_a(
    node_a: dict[str, str], node_b: dict[str, str]
) -> None:
    ann = f"{node_a['CONODE_URL']}/users/ann"
    ben = f"{node_b['CONODE_URL']}/users/ben"
    # Given ben offers two hours of gardening on node B
    offer_id = _run(
        node_b, "post", "create", "ben", "--kind", "offer", "--title", "Help in your garden",
        "--body", "Weeding", "--hours", "2", "--category", "gardening",
    ).strip()  # fmt: skip
    # When ann, on node A, replies to it
    _run(node_a, "reply", "ann", offer_id, "--body", "I can help on Saturday")
    # Then node B holds her reply as a response
    responses = _wait_for(
        lambda: _json(node_b, "offers", "list")[0]["responses"], "ann's response on node B"
    )
    assert [r["author"] for r in responses] == [ann]
    # When ben matches it, node A records the agreement the Accept carries
    agreement_id = _run(node_b, "offers", "match", offer_id, str(responses[0]["id"])).split()[0]
    on_a = _wait_for(lambda: _json(node_a, "offers", "agreements"), "the Accept on node A")
    assert [(a["id"], a["status"], a["provider"], a["receiver"]) for a in on_a] == [
        (agreement_id, "agreed", ben, ann)
    ]
    assert on_a[0]["title"] == "Help in your garden"
    # When ben completes it with two hours
    _run(node_b, "offers", "complete", agreement_id, "--hours", "2")

    # Then both nodes show the completed agreement and the same balanced hours
    def completed_on_a() -> list[Any]:
        return [a for a in _json(node_a, "offers", "agreements") if a["status"] == "completed"]

    (done_a,) = _wait_for(completed_on_a, "the confirmation on node A")
    (done_b,) = _json(node_b, "offers", "agreements")
    for done in (done_a, done_b):
        assert (done["id"], done["completed_hours"]) == (agreement_id, 2.0)
    for env in (node_a, node_b):
        balances = {b["account"]: b["balance"] for b in _json(env, "ledger")}
        assert balances == {ben: 2.0, ann: -2.0}
    (entry,) = _json(node_a, "ledger", "ann")
    assert (entry["agreement"], entry["hours"], entry["counterparty"]) == (agreement_id, -2.0, ben)
    # And node B's board says it is done
    board = httpx.get(
        f"{node_b['CONODE_URL']}/offers?page=1", headers={"Accept": "application/activity+json"}
    ).json()
    assert "Offer (done):" in board["orderedItems"][0]["content"]
