"""A fast inbox sink for the fan-out benchmark: answers every POST with 202 without checking
(the benchmark measures the sender), on 127.0.0.1 … 127.0.0.N so deliveries spread over N
hosts as they would over many servers. GET /stats gives the count and the first and last
arrival times (time.time()); POST /reset zeroes them."""

from __future__ import annotations

import argparse
import asyncio
import socket
import time

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

STATS = {"count": 0, "first": 0.0, "last": 0.0}


async def inbox(request: Request) -> Response:
    await request.body()
    now = time.time()
    if not STATS["count"]:
        STATS["first"] = now
    STATS["count"] += 1
    STATS["last"] = now
    return Response(status_code=202)


async def stats(request: Request) -> Response:
    return JSONResponse(STATS)


async def reset(request: Request) -> Response:
    STATS.update(count=0, first=0.0, last=0.0)
    return PlainTextResponse("ok")


async def ready(request: Request) -> Response:
    return PlainTextResponse("ok")


app = Starlette(
    routes=[
        Route("/inbox/{n}", inbox, methods=["POST"]),
        Route("/stats", stats),
        Route("/reset", reset, methods=["POST"]),
        Route("/ready", ready),
    ]
)


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
    config = uvicorn.Config(app, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    asyncio.run(server.serve(sockets=sockets(args.port, args.hosts)))
