"""A Mastodon-shaped peer that real `conode serve` processes reach over real HTTP.

It is tests/fediverse.py's FakeServer (real keys, signs and verifies as Mastodon does), served
by uvicorn in a background thread on a 127.0.0.1 port; its own outgoing requests (key lookups,
what it sends) go over real HTTP too.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import uvicorn

from .fediverse import FakeServer, Fediverse


class RealHttp(Fediverse):
    """A Fediverse whose every request goes out over the network (no in-process routing)."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        async with httpx.AsyncHTTPTransport() as transport:
            response = await transport.handle_async_request(request)
            content = await response.aread()
        return httpx.Response(response.status_code, headers=response.headers, content=content)


@contextlib.contextmanager
def served_peer(port: int, *users: str) -> Iterator[FakeServer]:
    """A FakeServer at http://127.0.0.1:port with these users, serving until the block ends."""
    peer = FakeServer(f"127.0.0.1:{port}", RealHttp(), scheme="http")
    for name in users:
        peer.add_user(name)
    config = uvicorn.Config(
        peer.app(), host="127.0.0.1", port=port, log_level="warning", lifespan="off"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise AssertionError(f"the peer could not serve on 127.0.0.1:{port}")
        time.sleep(0.05)
    try:
        yield peer
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def send(peer: FakeServer, name: str, activity: dict[str, Any], inbox_url: str) -> int:
    """POST a signed activity from the peer's user; the HTTP status."""
    return asyncio.run(peer.send(name, activity, inbox_url)).status_code
