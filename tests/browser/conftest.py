"""Browser tests: Debian's headless Chromium (driven by Playwright) against a real `conode
serve`, with a Mastodon-shaped peer served by uvicorn on another loopback port.

Skipped only when /usr/bin/chromium is missing and CI is not set; under CI=true they must run
(.ci/run installs chromium and axe-core first). `playwright install` is never used.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from ..conftest import free_port
from ..fediverse import FakeServer, Fediverse

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ROOT = Path(__file__).resolve().parent.parent.parent
ARTIFACTS = ROOT / "test-artifacts"
AXE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
CONODE = [sys.executable, "-m", "node.cli"]
PASSWORDS = {"ben": "ben-password-123", "mia": "mia-password-123"}

if not CHROMIUM.exists() and os.environ.get("CI") != "true":
    pytest.skip("no /usr/bin/chromium (apt-get install chromium)", allow_module_level=True)


class LoopbackNet(Fediverse):
    """Like the in-process fediverse, but hosts it does not serve are reached over real HTTP
    (only ever 127.0.0.1 here: the node under test)."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.netloc.decode() in self._hosts:
            return await super().handle_async_request(request)
        # A transport per request: the peer sends from more than one event loop.
        async with httpx.AsyncHTTPTransport() as real:
            response = await real.handle_async_request(request)
            body = await response.aread()
        return httpx.Response(response.status_code, headers=response.headers, content=body)


@dataclass
class Peer:
    """A Mastodon-shaped server on 127.0.0.1:port (alice, and whoever a test adds)."""

    server: FakeServer
    profiles: dict[str, dict[str, Any]]

    def send(self, name: str, activity: dict[str, Any], inbox_url: str) -> int:
        """POST a signed activity (in a thread of its own: Playwright's sync API keeps an
        event loop in the test's thread)."""
        statuses: list[int] = []

        def post() -> None:
            response = asyncio.run(self.server.send(name, activity, inbox_url))
            statuses.append(response.status_code)

        thread = threading.Thread(target=post)
        thread.start()
        thread.join(timeout=60)
        return statuses[0]


class ProfiledServer(FakeServer):
    """A FakeServer whose actors can carry whatever a test puts in their profile."""

    profiles: dict[str, dict[str, Any]]

    def actor(self, name: str) -> dict[str, Any]:
        return {**super().actor(name), **self.profiles.get(name, {})}


@pytest.fixture
def peer() -> Iterator[Peer]:
    port = free_port()
    server = ProfiledServer(f"127.0.0.1:{port}", LoopbackNet(), scheme="http")
    server.profiles = {}
    server.add_user("alice")
    config = uvicorn.Config(server.app(), host="127.0.0.1", port=port, log_level="warning")
    uvicorn_server = uvicorn.Server(config)
    thread = threading.Thread(target=uvicorn_server.run, daemon=True)
    thread.start()
    _wait_for(f"http://127.0.0.1:{port}/users/alice")
    yield Peer(server, server.profiles)
    uvicorn_server.should_exit = True
    thread.join(timeout=10)


def _wait_for(url: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError(f"{url} did not come up")


@dataclass
class Served:
    url: str
    env: dict[str, str]

    def conode(self, *args: str, stdin: str | None = None) -> str:
        result = subprocess.run(
            [*CONODE, *args], env=self.env, input=stdin, capture_output=True, text=True, timeout=60
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    def comments(self, status: str = "all") -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = json.loads(
            self.conode("comments", "list", "--status", status, "--json")
        )
        return found

    def wait_for_comment(self, status: str, text: str) -> dict[str, Any]:
        """The worker acts on the inbox within a second or so; poll, bounded."""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            for comment in self.comments(status):
                if text in comment["content"]:
                    return comment
            time.sleep(0.3)
        raise AssertionError(f"no {status} comment with {text!r}; log: {self.conode('log')}")


@pytest.fixture
def served(empty_database_url: str, tmp_path: Path) -> Iterator[Served]:
    """A real `conode serve` with a member (ben) and an admin who moderates (mia)."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONODE_")}
    env.update(
        CONODE_URL=f"http://127.0.0.1:{port}",
        CONODE_DATABASE_URL=empty_database_url,
        CONODE_KEYS_DIR=str(tmp_path / "keys"),
        CONODE_NAME="Riverside Timebank",
        CONODE_ALLOW_PRIVATE_NETWORKS="1",
    )
    node = Served(f"http://127.0.0.1:{port}", env)
    node.conode("init")
    node.conode("user", "create", "ben", "--display-name", "Ben", "--password-stdin",
                stdin=PASSWORDS["ben"] + "\n")  # fmt: skip
    node.conode("user", "create", "mia", "--admin", "--display-name", "Mia", "--password-stdin",
                stdin=PASSWORDS["mia"] + "\n")  # fmt: skip
    log = (tmp_path / "serve.log").open("w")
    process = subprocess.Popen(
        [*CONODE, "serve", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        _wait_for(f"{node.url}/.well-known/nodeinfo")
        yield node
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


@pytest.fixture
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
