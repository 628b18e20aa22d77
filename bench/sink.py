"""A fast inbox sink for the fan-out benchmark: answers every POST with 202 without checking
(the benchmark measures the sender), on 127.0.0.1 … 127.0.0.N so deliveries spread over N
hosts as they would over many servers. GET /stats gives the count, the first and last arrival
times (time.time()) and the arrivals in each quarter second ("quarters", oldest first: a steady
rate, or a stall); POST /reset zeroes them."""

from __future__ import annotations

import argparse
import json
import socket
import time
from collections import Counter
from typing import Any

import uvicorn
import uvloop

STATS = {"count": 0, "first": 0.0, "last": 0.0}
QUARTERS: Counter[int] = Counter()  # arrivals per quarter second (time.time() * 4)

Scope = dict[str, Any]
Receive = Any
Send = Any


async def _body(receive: Receive) -> bytes:
    chunks, more = [], True
    while more:
        message = await receive()
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    return b"".join(chunks)


async def _answer(send: Send, status: int, body: bytes = b"", kind: bytes = b"text/plain") -> None:
    headers = [(b"content-type", kind), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    """A bare ASGI callable, not Starlette's routing: the sink shares the bench's two cores
    with the workers, and what it spends per delivery is taken from them."""
    if scope["type"] != "http":
        return
    path, method = scope["path"], scope["method"]
    if method == "POST" and path.startswith("/inbox/"):
        await _body(receive)
        now = time.time()
        if not STATS["count"]:
            STATS["first"] = now
        STATS["count"] += 1
        STATS["last"] = now
        QUARTERS[int(now * 4)] += 1
        await send({"type": "http.response.start", "status": 202, "headers": []})
        await send({"type": "http.response.body", "body": b""})
    elif path == "/stats":
        stats = STATS | {"quarters": [QUARTERS[n] for n in sorted(QUARTERS)]}
        await _answer(send, 200, json.dumps(stats).encode(), b"application/json")
    elif path == "/reset" and method == "POST":
        STATS.update(count=0, first=0.0, last=0.0)
        QUARTERS.clear()
        await _answer(send, 200, b"ok")
    elif path == "/ready":
        await _answer(send, 200, b"ok")
    else:
        await _answer(send, 404, b"not found")


def sockets(port: int, hosts: int) -> list[socket.socket]:
    bound = []
    for n in range(1, hosts + 1):
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((f"127.0.0.{n}", port))
        bound.append(sock)
    return bound


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--hosts", type=int, default=16)
    args = parser.parse_args()
    # httptools and uvloop (conode's own dependencies), as `conode serve` runs: named, since
    # Server.serve() on a loop of our own does not choose them (this ran on asyncio's loop)
    config = uvicorn.Config(
        app, log_level="warning", lifespan="off", access_log=False, http="httptools"
    )
    server = uvicorn.Server(config)
    uvloop.run(server.serve(sockets=sockets(args.port, args.hosts)))
