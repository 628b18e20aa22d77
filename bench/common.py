"""What every benchmark shares: a throwaway `conode serve`, free loopback ports, the load
generator process, reference rates measured in the same run, resident memory, JSON output.

Run from the repository root with the project's virtualenv: `.venv/bin/python bench/NAME.py`.
The benchmarks need the `bench` extra (`.venv/bin/pip install -e '.[bench]'`): aiohttp for the
load generator, psutil for memory; every other tool is part of conode's own dependencies.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
CONODE = [PYTHON, "-m", "node.cli"]
LOADGEN = [PYTHON, str(ROOT / "bench" / "loadgen.py")]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def wait_until(probe: Callable[[], Any], what: str, timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(0.1)
    raise SystemExit(f"timed out waiting for {what}")


def answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code < 500
    except httpx.TransportError:
        return False


@dataclass
class Node:
    """A `conode serve` on a fresh database in a temporary directory."""

    directory: Path
    port: int
    database_url: str
    extra_env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None
    processes: int = 1  # `conode serve --processes N`

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def env(self) -> dict[str, str]:
        environ = {k: v for k, v in os.environ.items() if not k.startswith("CONODE_")}
        environ.update(
            CONODE_DATABASE_URL=self.database_url,
            CONODE_KEYS_DIR=str(self.directory / "keys"),
            CONODE_URL=self.url,
            CONODE_ALLOW_PRIVATE_NETWORKS="1",
            CONODE_RATE_LIMIT="0",
            CONODE_COMMENT_POLICY="open",
            PYTHONPATH=str(ROOT),
            **self.extra_env,
        )
        return environ

    def run(self, *args: str) -> str:
        result = subprocess.run(
            [*CONODE, *args], env=self.env, cwd=self.directory, capture_output=True, text=True
        )
        if result.returncode != 0:
            raise SystemExit(f"conode {' '.join(args)} failed: {result.stderr}")
        return result.stdout

    def start(self) -> None:
        log = (self.directory / "serve.log").open("wb")
        self.process = subprocess.Popen(
            [*CONODE, "serve", "--port", str(self.port), "--processes", str(self.processes)],
            env=self.env,
            cwd=self.directory,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        wait_until(lambda: answers(f"{self.url}/.well-known/nodeinfo"), "conode serve")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)


@contextmanager
def conode_node(
    database_url: str | None = None, members: tuple[str, ...] = ("ben",), **env: str
) -> Iterator[Node]:
    """A node with `members`, served on a free port; SQLite unless `database_url` is given."""
    with tempfile.TemporaryDirectory(prefix="conode-bench-") as tmp:
        directory = Path(tmp)
        (directory / "data").mkdir()
        url = database_url or f"sqlite:///{directory / 'data' / 'conode.db'}"
        node = Node(directory, free_port(), url, dict(env))
        node.run("init")
        for member in members:
            node.run("user", "create", member)
        try:
            yield node
        finally:
            node.stop()


@contextmanager
def served(
    module: str, port: int, *args: str, log: Path | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """Run bench/<module>.py as a server process on `port` until the block ends; its output
    goes to `log` when given (a server that logs each request must not write into the JSON)."""
    command = [PYTHON, str(ROOT / "bench" / f"{module}.py"), "--port", str(port), *args]
    output = log.open("wb") if log is not None else None
    process = subprocess.Popen(
        command, env=os.environ | {"PYTHONPATH": str(ROOT)}, stdout=output, stderr=output
    )
    try:
        wait_until(lambda: answers(f"http://127.0.0.1:{port}/ready"), module)
        yield process
    finally:
        process.terminate()
        process.wait(timeout=20)
        if output is not None:
            output.close()


def load(requests_file: Path, concurrency: int, *, rss_of: int | None = None) -> dict[str, Any]:
    """Run the load generator (another process) over a file of prepared requests. With a
    server's PID, also its peak RSS and the CPU time it spent per request: on a machine shared
    with other work the rate moves from run to run, the CPU a request costs much less."""
    command = [*LOADGEN, str(requests_file), "--concurrency", str(concurrency)]
    if rss_of is not None:
        command += ["--rss-of", str(rss_of)]
    before = cpu_seconds(rss_of)
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    result: dict[str, Any] = json.loads(output)
    if rss_of is not None and result["requests"]:
        spent = cpu_seconds(rss_of) - before
        result["server_cpu_ms_per_request"] = round(1000 * spent / result["requests"], 3)
    return result


def cpu_seconds(pid: int | None) -> float:
    """User and system CPU of a process and its children (a server's workers)."""
    if pid is None:
        return 0.0
    import psutil

    process = psutil.Process(pid)
    total = 0.0
    for each in [process, *process.children(recursive=True)]:
        times = each.cpu_times()
        total += times.user + times.system
    return total


def write_requests(path: Path, requests: list[dict[str, Any]]) -> Path:
    """One JSON object a line: method, url, headers, body (text)."""
    with path.open("w") as out:
        for request in requests:
            out.write(json.dumps(request) + "\n")
    return path


def best(runs: list[dict[str, Any]], key: str) -> dict[str, Any]:
    return max(runs, key=lambda run: float(run[key]))


def ratio(value: float, reference: float) -> float:
    return round(value / reference, 3) if reference else 0.0


def emit(figures: dict[str, Any]) -> None:
    figures = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), **figures}
    figures["machine"] = f"{os.cpu_count()} cores, shared"
    print(json.dumps(figures, indent=2))
