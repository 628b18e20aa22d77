"""Durability: a real `conode serve` is killed with SIGKILL while it stores inbound activities
and while it delivers, restarted each time, and afterwards the database is intact, every
activity it answered 202 to was acted on, and every delivery it queued arrived.

Remote servers are a real uvicorn app on 127.0.0.1: actors with keys, and inboxes that verify
each delivery's signature (tests/sink.py). Runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import signal
import sqlite3
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route

from activitypub import keys
from activitypub.keys import PrivateKey
from activitypub.signatures import sign_request
from node.federation import actors
from node.settings import Settings
from node.storage import Store, sqlite_path

from ..conftest import free_port
from ..sink import InboxSink, serving

FOLLOWERS = 60
LEASE_SECONDS = "2"
REMOTE_PEM = keys.generate_private_pem()  # one key for every remote actor: keygen is slow


def _remote_app(port: int, sink: InboxSink) -> Starlette:
    base = f"http://127.0.0.1:{port}"

    async def actor(request: Request) -> Response:
        actor_id = f"{base}/users/{request.path_params['name']}"
        document = {
            "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
            "id": actor_id,
            "type": "Person",
            "preferredUsername": request.path_params["name"],
            "inbox": f"{base}/inbox/{request.path_params['name']}",
            "publicKey": {
                "id": f"{actor_id}#main-key",
                "owner": actor_id,
                "publicKeyPem": keys.public_pem_from_private(REMOTE_PEM),
            },
        }
        return JSONResponse(document, media_type="application/activity+json")

    return Starlette(routes=[Route("/users/{name}", actor), Mount("/inbox", sink)])


class Node:
    """One `conode serve` process at a time on a fixed port; killed and restarted at will."""

    def __init__(self, settings: Settings, port: int, log: Path) -> None:
        self.settings, self.port, self.log = settings, port, log
        self.process: asyncio.subprocess.Process | None = None
        self.starts = 0

    async def start(self) -> None:
        env = os.environ | {
            "CONODE_URL": self.settings.url,
            "CONODE_DATABASE_URL": self.settings.database_url,
            "CONODE_KEYS_DIR": str(self.settings.keys_dir),
            "CONODE_ALLOW_PRIVATE_NETWORKS": "1",
            "CONODE_RATE_LIMIT": "0",
            "CONODE_DELIVERY_LEASE_SECONDS": LEASE_SECONDS,
        }
        output = self.log.open("ab")
        self.process = await asyncio.create_subprocess_exec(
            *(sys.executable, "-m", "node.cli", "serve", "--port", str(self.port)),
            env=env,
            cwd=self.log.parent,
            stdout=output,
            stderr=output,
        )
        self.starts += 1
        async with httpx.AsyncClient() as http:
            for _ in range(300):
                try:
                    await http.get(f"{self.settings.url}/actor")
                    return
                except httpx.TransportError:
                    await asyncio.sleep(0.05)
        raise AssertionError(self.log.read_text()[-3000:])

    async def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        await self.process.wait()

    async def stop(self) -> int:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        return await asyncio.wait_for(self.process.wait(), timeout=20)


def _follow(remote: str, number: int, ben: str) -> dict[str, Any]:
    actor = f"{remote}/users/u{number}"
    return {"id": f"{remote}/follows/{number}", "type": "Follow", "actor": actor, "object": ben}


async def _send(http: httpx.AsyncClient, inbox: str, follow: dict[str, Any]) -> bool:
    """True when the node answered 202 (accepted: it must not be lost)."""
    body = json.dumps(follow).encode()
    key = PrivateKey(key_id=f"{follow['actor']}#main-key", pem=REMOTE_PEM)
    headers = {"Content-Type": "application/activity+json"}
    headers |= sign_request("POST", inbox, {}, body, key)
    try:
        response = await http.post(inbox, content=body, headers=headers)
    except httpx.TransportError:
        return False
    return response.status_code == 202


async def _until(probe: Callable[[], Awaitable[bool]], timeout: float, log: Path) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await probe():
        assert asyncio.get_running_loop().time() < deadline, log.read_text()[-3000:]
        await asyncio.sleep(0.05)


async def test_sigkill_during_inbox_writes_and_deliveries_loses_nothing(
    settings: Settings, store: Store, tmp_path: Path
) -> None:
    node_port, remote_port = free_port(), free_port()
    settings = dataclasses.replace(settings, url=f"http://127.0.0.1:{node_port}")
    ben_row = await store.local_actor("ben")
    assert ben_row is not None
    ben = actors.local_actor(settings, ben_row)
    sink = InboxSink([actors.public_key(ben)], delay=0.1)
    remote = f"http://127.0.0.1:{remote_port}"
    node = Node(settings, node_port, tmp_path / "serve.log")
    inbox = f"{settings.url}/inbox"
    accepted: set[str] = set()
    follows = [_follow(remote, n, ben.actor_id) for n in range(FOLLOWERS)]

    async def send_all(batch: list[dict[str, Any]]) -> None:
        async def one(http: httpx.AsyncClient, follow: dict[str, Any]) -> None:
            if await _send(http, inbox, follow):
                accepted.add(follow["id"])

        limits = httpx.Limits(max_connections=8)
        async with httpx.AsyncClient(timeout=10, limits=limits) as http:
            await asyncio.gather(*(one(http, follow) for follow in batch))

    async def accepts_delivered() -> int:
        return len({json.loads(r.body)["object"]["id"] for r in sink.received if r.signer})

    async with serving(_remote_app(remote_port, sink), remote_port):  # type: ignore[arg-type]
        # Given a node receiving a burst of follows, each of which queues a delivery
        await node.start()
        sending = asyncio.create_task(send_all(follows))
        # When it is killed while it stores them
        await _until(lambda: _at_least(lambda: len(accepted), FOLLOWERS // 4), 30, node.log)
        await node.kill()
        await sending
        at_first_kill = len(accepted)
        # And killed again, once restarted, while it delivers the Accepts
        await node.start()
        await send_all([f for f in follows if f["id"] not in accepted])
        await _until(lambda: _at_least(accepts_delivered, 5), 30, node.log)
        await node.kill()
        delivered_at_second_kill = await accepts_delivered()
        # Then, restarted, it acts on every activity it accepted and delivers every Accept
        await node.start()
        await _until(lambda: _at_least(accepts_delivered, len(accepted)), 90, node.log)
        # uvicorn shuts down cleanly on SIGTERM, then exits by the signal it caught
        assert await node.stop() in (0, -signal.SIGTERM)
        assert "Application shutdown complete" in node.log.read_text()
    print(
        f"\ncrash test: {at_first_kill} of {FOLLOWERS} follows accepted before the first kill, "
        f"{delivered_at_second_kill} Accepts delivered before the second, "
        f"{len(accepted)} accepted in all, {len(sink.received)} deliveries received"
    )
    assert 0 < at_first_kill < FOLLOWERS and len(accepted) == FOLLOWERS
    delivered = {json.loads(r.body)["object"]["id"] for r in sink.received if r.signer}
    assert delivered == accepted
    followers = await store.followers_of(ben_row.id)
    assert {f.follow_id for f in followers} == accepted
    assert await store.count_inbound("queued") == 0
    path = sqlite_path(settings.database_url)
    if path is not None:
        with sqlite3.connect(path) as connection:
            assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)


async def _at_least(probe: Callable[[], Awaitable[int] | int], target: int) -> bool:
    value = probe()
    if not isinstance(value, int):
        value = await value
    return value >= target
