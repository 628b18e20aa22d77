"""The reference server: a bare Starlette app under the same uvicorn as `conode serve`.
POST /inbox reads the body and answers 202; GET /page answers a small HTML page."""

from __future__ import annotations

import argparse

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse
from starlette.routing import Route

PAGE = "<!doctype html><title>bare</title><p>" + "reference " * 50 + "</p>"


async def inbox(request: Request) -> PlainTextResponse:
    await request.body()
    return PlainTextResponse("queued\n", status_code=202)


async def page(request: Request) -> HTMLResponse:
    return HTMLResponse(PAGE)


async def ready(request: Request) -> PlainTextResponse:
    return PlainTextResponse("ok")


app = Starlette(
    routes=[
        Route("/inbox", inbox, methods=["POST"]),
        Route("/page", page),
        Route("/ready", ready),
    ]
)

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    port = parser.parse_args().port
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")
