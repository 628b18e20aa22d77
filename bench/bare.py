"""The reference server: a bare Starlette app under the same uvicorn as `conode serve`.
POST /inbox reads the body and answers 202; GET /page answers a small HTML page, GET /object
a Note's ActivityPub JSON of about the size conode serves for a post."""

from __future__ import annotations

import argparse

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse
from starlette.routing import Route

from node.settings import SERVE_LOOP

PAGE = "<!doctype html><title>bare</title><p>" + "reference " * 50 + "</p>"
NOTE = {
    "@context": "https://www.w3.org/ns/activitystreams",
    "id": "http://127.0.0.1/posts/1",
    "type": "Note",
    "attributedTo": "http://127.0.0.1/users/ben",
    "content": "<p>" + "reference " * 50 + "</p>",
    "to": ["https://www.w3.org/ns/activitystreams#Public"],
    "cc": ["http://127.0.0.1/users/ben/followers"],
}


async def inbox(request: Request) -> PlainTextResponse:
    await request.body()
    return PlainTextResponse("queued\n", status_code=202)


async def page(request: Request) -> HTMLResponse:
    return HTMLResponse(PAGE)


async def note(request: Request) -> JSONResponse:
    return JSONResponse(NOTE, media_type="application/activity+json")


async def ready(request: Request) -> PlainTextResponse:
    return PlainTextResponse("ok")


app = Starlette(
    routes=[
        Route("/inbox", inbox, methods=["POST"]),
        Route("/page", page),
        Route("/object", note),
        Route("/ready", ready),
    ]
)

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    port = parser.parse_args().port
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", loop=SERVE_LOOP)
