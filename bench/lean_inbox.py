"""The inbox benchmark's lean reference: the least a server can do with a signed Create and
still have done it properly, under the same uvicorn configuration as `conode serve`.

POST /inbox (or /users/NAME/inbox): read the body (1 MB cap), parse the JSON, check the
draft-cavage signature (Digest, Date within an hour, RSA-2048 over the signed headers, the
signer's key fetched once from the key server and kept), sanitise the Note's HTML with nh3,
insert one row into SQLite (WAL, synchronous=NORMAL, one commit per request on one writer
thread) and answer 202. No moderation, no rate limit, no de-duplication, no activity log:
what conode does beyond this is what the ratio prices.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import json
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import httpx
import nh3
import uvicorn
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from node.settings import SERVE_LOOP

MAX_BODY = 1_048_576
SCHEMA = """CREATE TABLE IF NOT EXISTS inbox (
    id INTEGER PRIMARY KEY, activity_id TEXT, actor TEXT, content TEXT, body TEXT)"""


class Refused(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


class Lean:
    def __init__(self, database: Path) -> None:
        self.keys: dict[str, rsa.RSAPublicKey] = {}
        self.writer = ThreadPoolExecutor(max_workers=1)
        self.connection = sqlite3.connect(database, check_same_thread=False)
        self.connection.execute("PRAGMA journal_mode=WAL")
        self.connection.execute("PRAGMA synchronous=NORMAL")
        self.connection.execute(SCHEMA)

    async def key(self, key_id: str) -> rsa.RSAPublicKey:
        if key_id not in self.keys:
            async with httpx.AsyncClient() as client:
                actor = (await client.get(key_id.split("#")[0])).json()
            public = serialization.load_pem_public_key(actor["publicKey"]["publicKeyPem"].encode())
            assert isinstance(public, rsa.RSAPublicKey)
            self.keys[key_id] = public
        return self.keys[key_id]

    async def verify(self, request: Request, body: bytes) -> str:
        fields = dict(
            part.split("=", 1) for part in request.headers.get("signature", "").split(",") if part
        )
        params = {name.strip(): value.strip().strip('"') for name, value in fields.items()}
        if "keyId" not in params or "signature" not in params:
            raise Refused(401, "unsigned")
        digest = "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode()
        if request.headers.get("digest") != digest:
            raise Refused(401, "digest")
        date = parsedate_to_datetime(request.headers.get("date", ""))
        if abs(time.time() - date.timestamp()) > 3600:
            raise Refused(401, "date")
        lines = []
        for name in params.get("headers", "date").split():
            if name == "(request-target)":
                lines.append(f"(request-target): post {request.url.path}")
            else:
                lines.append(f"{name}: {request.headers.get(name, '')}")
        public = await self.key(params["keyId"])
        try:
            public.verify(
                base64.b64decode(params["signature"]),
                "\n".join(lines).encode(),
                padding.PKCS1v15(),
                hashes.SHA256(),
            )
        except InvalidSignature:
            raise Refused(401, "signature") from None
        return params["keyId"].split("#")[0]

    def insert(self, row: tuple[Any, ...]) -> None:
        with self.connection:
            self.connection.execute(
                "INSERT INTO inbox (activity_id, actor, content, body) VALUES (?, ?, ?, ?)", row
            )

    async def inbox(self, request: Request) -> Response:
        try:
            body = await request.body()
            if len(body) > MAX_BODY:
                raise Refused(413, "too large")
            activity = json.loads(body)
            if not isinstance(activity, dict) or not isinstance(activity.get("object"), dict):
                raise Refused(400, "not an activity")
            signer = await self.verify(request, body)
            if signer != activity.get("actor"):
                raise Refused(401, "signer is not the actor")
            content = nh3.clean(str(activity["object"].get("content", "")))
            row = (activity["id"], signer, content, body.decode())
            await asyncio.get_running_loop().run_in_executor(self.writer, self.insert, row)
        except Refused as refusal:
            return PlainTextResponse(str(refusal), status_code=refusal.status)
        return PlainTextResponse("queued\n", status_code=202)


def make_app(database: Path) -> Starlette:
    lean = Lean(database)

    async def ready(request: Request) -> Response:
        return PlainTextResponse("ok")

    return Starlette(
        routes=[
            Route("/inbox", lean.inbox, methods=["POST"]),
            Route("/users/{name}/inbox", lean.inbox, methods=["POST"]),
            Route("/ready", ready),
        ]
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--database", type=Path, required=True)
    args = parser.parse_args()
    # as `conode serve` runs uvicorn: log level info, so the access log is written here too
    uvicorn.run(
        make_app(args.database),
        host="127.0.0.1",
        port=args.port,
        log_level="info",
        loop=SERVE_LOOP,
    )
