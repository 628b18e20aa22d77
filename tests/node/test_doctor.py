"""`conode doctor`, run as an operator runs it against real `conode serve` and `conode worker`
processes: healthy (exit 0) when everything works; exit 1, with the failing line saying what to
do, on a wrong node secret, an unreachable database, a CONODE_URL that reaches another server,
or no process working the queues. `conode serve` on another port than CONODE_URL names says so."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ..conftest import free_port
from ..peer import served_peer
from ..processes import CONODE, ServedNode, conode, initialised_node, wait_until
from .test_mail import Inbox, Smtp


@contextlib.contextmanager
def worker(node: ServedNode) -> Iterator[subprocess.Popen[bytes]]:
    log = (node.directory / "worker.log").open("wb")
    process = subprocess.Popen(
        [*CONODE, "worker"], env=node.env, cwd=node.directory, stdout=log, stderr=log
    )
    try:
        yield process
    finally:
        process.terminate()
        process.wait(timeout=15)
        log.close()


def doctor(node: ServedNode, **env: str) -> tuple[int, dict[str, dict[str, Any]], str]:
    """Exit status, the checks by name (the first line of each), and the text output."""
    result = conode(node.env | env, "doctor", "--json", cwd=node.directory)
    assert "Traceback" not in result.stderr, result.stderr
    checks: dict[str, dict[str, Any]] = {}
    for check in json.loads(result.stdout):
        checks.setdefault(check["check"], check)
    text = conode(node.env | env, "doctor", cwd=node.directory)
    assert text.returncode == result.returncode
    return result.returncode, checks, text.stdout


def heartbeats(node: ServedNode) -> int | None:
    _, checks, _ = doctor(node)
    processes = int(checks["worker"].get("figures", {}).get("processes", 0))
    return processes if processes >= 2 else None


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedNode]:
    """A node with a member, serving, and a separate worker: healthy."""
    with initialised_node(tmp_path_factory.mktemp("doctor"), "ann") as served:
        served.start()
        with worker(served):
            wait_until(lambda: heartbeats(served), "serve and worker heartbeats", timeout=40)
            yield served


def test_a_healthy_node_passes(node: ServedNode) -> None:
    code, checks, text = doctor(node)
    assert code == 0, text
    assert {name: check["status"] for name, check in checks.items()} == {
        "database": "ok",
        "secret": "ok",
        "url": "ok",
        "worker": "ok",
        "queue": "ok",
        "paused": "ok",
        "mail": "ok",
    }, text
    assert f"reaches this node's Group {node.url}/groups/community" in checks["url"]["message"]
    assert "conode serve on" in checks["worker"]["message"]
    assert "conode worker on" in checks["worker"]["message"]
    assert checks["queue"]["figures"]["deliveries_waiting"] == 0
    assert text.splitlines()[-1] == "the node is healthy"
    assert len(text.splitlines()) == len(checks) + 1  # one line per check, and the verdict


def test_a_wrong_node_secret_fails(node: ServedNode) -> None:
    secret = node.directory / "keys" / "node.secret"
    original = secret.read_bytes()
    secret.write_bytes(base64.b64encode(os.urandom(32)) + b"\n")
    try:
        code, checks, text = doctor(node)
    finally:
        secret.write_bytes(original)
    assert code == 1
    assert checks["secret"]["status"] == "fail"
    assert "does not open the keys sealed in this database" in checks["secret"]["message"]
    assert "put back" in checks["secret"]["message"]
    assert "fail  secret" in text


def test_an_unreachable_database_fails(node: ServedNode) -> None:
    for unreachable in (
        f"postgresql://conode:hidden@127.0.0.1:{free_port()}/conode",
        f"sqlite:///{node.directory / 'nowhere' / 'conode.db'}",
    ):
        code, checks, text = doctor(node, CONODE_DATABASE_URL=unreachable)
        assert code == 1, text
        assert checks["database"]["status"] == "fail"
        assert "CONODE_DATABASE_URL" in checks["database"]["message"]
        assert "hidden" not in text  # the password never shows
        assert checks["secret"]["status"] == "skip"


def test_a_public_url_reaching_another_server_fails(node: ServedNode) -> None:
    # A server at the URL that answers WebFinger for the Group's name, with another actor
    with served_peer(free_port(), "community") as elsewhere:
        code, checks, _ = doctor(node, CONODE_URL=elsewhere.base_url)
    assert code == 1
    assert checks["url"]["status"] == "fail"
    assert "points at another server" in checks["url"]["message"]
    # And a URL where nothing answers
    code, checks, _ = doctor(node, CONODE_URL=f"http://127.0.0.1:{free_port()}")
    assert code == 1
    assert "cannot reach" in checks["url"]["message"]
    # And plain http on a public host is warned of, besides
    public = node.env | {"CONODE_URL": "http://community.invalid"}
    result = conode(public, "doctor", "--json", cwd=node.directory)
    warned = [c for c in json.loads(result.stdout) if c["status"] == "warn"]
    assert any("uses http on a public host" in c["message"] for c in warned), warned


def test_mail_is_checked_when_it_is_set(node: ServedNode) -> None:
    server = Smtp(free_port(), Inbox())
    server.start()
    try:
        code, checks, text = doctor(node, CONODE_SMTP_URL=f"smtp://127.0.0.1:{server.port}")
    finally:
        server.stop()
    assert code == 0, text
    assert checks["mail"]["status"] == "ok"
    assert f"the mail server 127.0.0.1:{server.port} answers" in checks["mail"]["message"]
    # And a mail server that does not answer fails, saying what to check
    code, checks, _ = doctor(node, CONODE_SMTP_URL=f"smtp://127.0.0.1:{server.port}")
    assert code == 1
    assert checks["mail"]["status"] == "fail"
    assert "check CONODE_SMTP_URL" in checks["mail"]["message"]


def test_no_running_worker_fails(tmp_path: Path) -> None:
    with initialised_node(tmp_path, "ann") as idle:
        code, checks, _ = doctor(idle)
    assert code == 1
    assert checks["worker"]["status"] == "fail"
    assert "nothing is delivered" in checks["worker"]["message"]
    assert "systemctl start conode-worker" in checks["worker"]["message"]


def test_serving_another_port_than_conode_url_is_said(tmp_path: Path) -> None:
    with initialised_node(tmp_path, "ann") as idle:
        port = free_port()
        log = tmp_path / "serve.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [*CONODE, "serve", "--port", str(port)],
                env=idle.env,
                cwd=idle.directory,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        try:

            def answers() -> bool:
                with contextlib.suppress(httpx.TransportError):
                    return httpx.get(f"http://127.0.0.1:{port}/.well-known/nodeinfo").is_success
                return False

            wait_until(answers, "serve on its own port", explain=log.read_text)
            printed = log.read_text()
            assert f"but this process serves port {port}" in printed
            assert f"set CONODE_URL=http://127.0.0.1:{port}" in printed

            def port_warning() -> dict[str, Any] | None:
                result = conode(idle.env, "doctor", "--json", cwd=idle.directory)
                found = [c for c in json.loads(result.stdout) if "listens on" in c["message"]]
                return found[0] if found else None

            warning = wait_until(port_warning, "doctor's warning about the port")
            assert warning["status"] == "warn"
            assert f"`conode serve` listens on {port}" in warning["message"]
        finally:
            process.terminate()
            process.wait(timeout=15)
