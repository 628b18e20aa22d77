"""A remote server for the inbox benchmark: serves Mastodon-shaped actor documents
(/users/NAME, with the public key in bench/.keys/NAME.pem beside --keys) so the node under test
can fetch the signer's key once and cache it."""

from __future__ import annotations

import argparse
from pathlib import Path

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from activitypub.keys import public_pem_from_private


def make_app(keys_dir: Path, origin: str) -> Starlette:
    pems = {path.stem: public_pem_from_private(path.read_text()) for path in keys_dir.glob("*.pem")}

    async def actor(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in pems:
            return PlainTextResponse("not found", status_code=404)
        actor_id = f"{origin}/users/{name}"
        return JSONResponse(
            {
                "@context": ["https://www.w3.org/ns/activitystreams"],
                "id": actor_id,
                "type": "Person",
                "preferredUsername": name,
                "inbox": f"{actor_id}/inbox",
                "endpoints": {"sharedInbox": f"{origin}/inbox"},
                "publicKey": {
                    "id": f"{actor_id}#main-key",
                    "owner": actor_id,
                    "publicKeyPem": pems[name],
                },
            },
            media_type="application/activity+json",
        )

    async def ready(request: Request) -> Response:
        return PlainTextResponse("ok")

    async def inbox(request: Request) -> Response:
        await request.body()
        return PlainTextResponse("", status_code=202)

    return Starlette(
        routes=[
            Route("/users/{name}", actor),
            Route("/users/{name}/inbox", inbox, methods=["POST"]),
            Route("/inbox", inbox, methods=["POST"]),
            Route("/ready", ready),
        ]
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--keys", type=Path, required=True)
    args = parser.parse_args()
    app = make_app(args.keys, f"http://127.0.0.1:{args.port}")
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning")
