"""Inboxes that receive deliveries in tests: an ASGI app that checks each POST's signature as
Mastodon does (Digest matches the body; `(request-target) host date digest` signed by a key it
knows), records what arrived, and answers with scripted statuses.

The same app serves fast tests through `httpx.ASGITransport` (any host name reaches it) and the
worker kill test through a real uvicorn server on 127.0.0.1 (`serving()`).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit

import uvicorn
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from activitypub.keys import PublicKey
from activitypub.signatures import SignatureError, verify_request

MASTODON_SIGNED_HEADERS = ("(request-target)", "host", "date", "digest")


@dataclass(frozen=True)
class Reply:
    status: int = 202
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Received:
    host: str
    path: str
    activity_id: str | None
    headers: dict[str, str]
    body: bytes
    signer: str | None  # the verified actor id; None when the signature was refused
    refusal: str = ""


class InboxSink:
    """Every POST is an inbox; `answer()` scripts the replies of one inbox URL (default 202)."""

    def __init__(
        self, known_keys: Iterable[PublicKey], *, delay: float = 0.0, accepts: str = "any"
    ) -> None:
        self._keys = {key.key_id: key for key in known_keys}
        # "rfc9421" or "draft-cavage": the other scheme is refused, as a server that reads
        # only one would (tests of double-knocking)
        self.accepts = accepts
        self._scripts: dict[str, list[Reply]] = {}
        self.delay = delay
        self.received: list[Received] = []
        self.arrived = asyncio.Event()  # set by each request, for tests that await the first
        # The time signatures are checked at; tests that step the worker's clock set it too.
        self.now: datetime | None = None

    def answer(self, inbox_url: str, *replies: Reply | int) -> None:
        """Reply to the inbox's next POSTs in this order; the last reply then repeats."""
        parts = urlsplit(inbox_url)
        script = [reply if isinstance(reply, Reply) else Reply(reply) for reply in replies]
        self._scripts[parts.netloc + parts.path] = script

    def from_inbox(self, inbox_url: str) -> list[Received]:
        parts = urlsplit(inbox_url)
        return [r for r in self.received if (r.host, r.path) == (parts.netloc, parts.path)]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        body = await request.body()
        received = await self._check(request, body)
        self.received.append(received)
        self.arrived.set()
        if self.delay:
            await asyncio.sleep(self.delay)  # a slow receiver keeps deliveries in flight
        reply = self._next_reply(received) if received.signer else Reply(401)
        await Response(status_code=reply.status, headers=reply.headers)(scope, receive, send)

    async def _check(self, request: Request, body: bytes) -> Received:
        headers = {name.lower(): value for name, value in request.headers.items()}
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        signer, refusal = None, ""
        scheme = "rfc9421" if "signature-input" in headers else "draft-cavage"
        if self.accepts not in ("any", scheme):
            return Received(
                headers.get("host", ""),
                request.url.path,
                None,
                headers,
                body,
                None,
                f"{scheme} not read",
            )
        try:
            signer = await verify_request(
                request.method,
                target,
                headers,
                body,
                self._lookup,
                now=self.now,
                scheme=request.url.scheme,
                required_headers=MASTODON_SIGNED_HEADERS,
            )
        except SignatureError as exc:
            refusal = exc.reason
        try:
            activity_id = json.loads(body).get("id")
        except (ValueError, AttributeError):
            activity_id = None
        host = headers.get("host", "")
        return Received(host, request.url.path, activity_id, headers, body, signer, refusal)

    async def _lookup(self, key_id: str) -> PublicKey:
        key = self._keys.get(key_id)
        if key is None:
            raise SignatureError("unknown key")
        return key

    def _next_reply(self, received: Received) -> Reply:
        script = self._scripts.get(received.host + received.path)
        if not script:
            return Reply()
        return script.pop(0) if len(script) > 1 else script[0]


@asynccontextmanager
async def serving(app: InboxSink, port: int) -> AsyncIterator[None]:
    """Serve `app` over real HTTP on 127.0.0.1:port in this event loop."""
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()  # raises why it could not start
        await asyncio.sleep(0.01)
    try:
        yield
    finally:
        server.should_exit = True
        await task
