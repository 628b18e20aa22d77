"""Real conode processes for tests: the `conode` command run as an operator would, a `conode
serve` on a loopback port (its output kept in a file to show when a test fails), fresh
databases for several nodes at once, and bounded polling instead of fixed sleeps."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import httpx

CONODE = [sys.executable, "-m", "node.cli"]
PG_ENV = "CONODE_TEST_DATABASE_URL"
ACTIVITY_JSON = "application/activity+json"
T = TypeVar("T")


def conode(
    env: dict[str, str], *args: str, stdin: str | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run one `conode` command to completion."""
    return subprocess.run(
        [*CONODE, *args], env=env, input=stdin, capture_output=True, text=True, timeout=60, cwd=cwd
    )


def conode_ok(env: dict[str, str], *args: str, cwd: Path | None = None) -> str:
    """Run a command that must succeed; its stdout."""
    result = conode(env, *args, cwd=cwd)
    assert result.returncode == 0, f"conode {' '.join(args)}: {result.stderr}"
    return result.stdout


def conode_json(env: dict[str, str], *args: str, cwd: Path | None = None) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = json.loads(conode_ok(env, *args, "--json", cwd=cwd))
    return items


def node_env(database_url: str, directory: Path, url: str, **extra: str) -> dict[str, str]:
    """The environment of one node, with no CONODE_* variable leaking in from outside."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("CONODE_")}
    environ.update(
        CONODE_DATABASE_URL=database_url,
        CONODE_KEYS_DIR=str(directory / "keys"),
        CONODE_URL=url,
        CONODE_ALLOW_PRIVATE_NETWORKS="1",
        CONODE_RATE_LIMIT="0",
        **extra,
    )
    return environ


def wait_until(
    probe: Callable[[], T | None],
    what: str,
    *,
    timeout: float = 30.0,
    explain: Callable[[], str] = lambda: "",
) -> T:
    """Call `probe` until it returns something other than None (or False); bounded."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value is not None and value is not False:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}\n{explain()}")
        time.sleep(0.2)


# --- databases ---------------------------------------------------------------------------------


async def _pg_execute(url: str, statement: str) -> None:
    connection = await asyncpg.connect(url)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@contextlib.contextmanager
def fresh_database(directory: Path) -> Iterator[str]:
    """An empty database: a file under `directory` on SQLite, or a new PostgreSQL database
    (dropped afterwards) when CONODE_TEST_DATABASE_URL is set."""
    admin = os.environ.get(PG_ENV)
    if not admin:
        yield f"sqlite:///{directory / 'data' / 'conode.db'}"
        return
    name = f"conode_n_{uuid.uuid4().hex[:12]}"
    asyncio.run(_pg_execute(admin, f"CREATE DATABASE {name}"))
    try:
        yield admin.rsplit("/", 1)[0] + "/" + name
    finally:
        asyncio.run(_pg_execute(admin, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


# --- conode serve -------------------------------------------------------------------------------


@dataclass
class ServedNode:
    """A `conode serve` process; `stop()` is safe to call more than once."""

    name: str
    url: str
    env: dict[str, str]
    directory: Path
    process: subprocess.Popen[bytes] | None = None
    log_path: Path = field(init=False)

    def __post_init__(self) -> None:
        self.log_path = self.directory / "serve.log"

    @property
    def host(self) -> str:
        return self.url.removeprefix("http://")

    def run(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return conode(self.env, *args, stdin=stdin, cwd=self.directory)

    def ok(self, *args: str) -> str:
        return conode_ok(self.env, *args, cwd=self.directory)

    def json(self, *args: str) -> list[dict[str, Any]]:
        return conode_json(self.env, *args, cwd=self.directory)

    def get(self, path_or_url: str, *, activity_json: bool = False) -> httpx.Response:
        url = path_or_url if path_or_url.startswith("http") else self.url + path_or_url
        headers = {"Accept": ACTIVITY_JSON} if activity_json else {"Accept": "text/html"}
        return httpx.get(url, headers=headers, timeout=10)

    def start(self, timeout: float = 30.0) -> None:
        port = self.url.rsplit(":", 1)[1]
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [*CONODE, "serve", "--port", port],
                env=self.env,
                cwd=self.directory,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        wait_until(
            self._answers, f"{self.name} to serve {self.url}", timeout=timeout, explain=self.output
        )

    def _answers(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(
                f"{self.name} exited with {self.process.returncode}\n{self.output()}"
            )
        try:
            return httpx.get(f"{self.url}/.well-known/nodeinfo", timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)

    def output(self) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return f"----- {self.name} ({self.url}) serve output -----\n{text}"


@contextlib.contextmanager
def printed_on_failure(*nodes: ServedNode) -> Iterator[None]:
    """On an error inside the block, print every node's serve output (pytest shows it)."""
    try:
        yield
    except Exception:
        for node in nodes:
            print(node.output())
        raise


def init_node(node: ServedNode, *members: str) -> None:
    """`conode init` and `conode user create` for each member, as an operator would."""
    node.ok("init")
    for member in members:
        node.ok("user", "create", member)


@contextlib.contextmanager
def serving_nodes(directory: Path, *nodes: tuple[str, str]) -> Iterator[list[ServedNode]]:
    """Nodes named by (name, member), each initialised with its member and serving on a
    loopback port, with its own database and keys under `directory / name`."""
    from .conftest import free_port

    with contextlib.ExitStack() as stack:
        served = []
        for name, member in nodes:
            home = directory / name
            home.mkdir()
            database_url = stack.enter_context(fresh_database(home))
            url = f"http://127.0.0.1:{free_port()}"
            node = ServedNode(name.upper(), url, node_env(database_url, home, url), home)
            # Registered before starting, so a node that fails to come up is still stopped.
            stack.callback(node.stop)
            init_node(node, member)
            served.append(node)
        with printed_on_failure(*served):
            for node in served:
                node.start()
        yield served


@contextlib.contextmanager
def initialised_node(directory: Path, *members: str) -> Iterator[ServedNode]:
    """A node initialised with its members in `directory`, not serving yet (`start()`)."""
    from .conftest import free_port

    with fresh_database(directory) as database_url:
        url = f"http://127.0.0.1:{free_port()}"
        node = ServedNode("A", url, node_env(database_url, directory, url), directory)
        try:
            init_node(node, *members)
            yield node
        finally:
            node.stop()
