"""Authorized fetch ("secure mode", CONODE_AUTHORIZED_FETCH=1, off by default): the ActivityPub
JSON of objects and collections is served only to requests signed by a server that is not
blocked, so a blocked server cannot read what the node publishes by fetching it anonymously.

What stays open to everyone: actor documents (every server needs our keys to verify what we
send, and many fetch keys unsigned), the instance actor (FEP-2677: servers in secure mode
fetch it to break the key-fetch deadlock), WebFinger, NodeInfo, the inboxes, and the HTML
pages, which are for people. Unsigned requests get 401, blocked servers 403.
"""

from __future__ import annotations

import json
import re

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from activitypub.signatures import SignatureError
from activitypub.vocab import wants_activity_json
from node.context import Node
from node.federation import remote
from node.moderation import rules as moderation

# Objects negotiate HTML or JSON: only their JSON is protected. Collections are always JSON.
# Actors themselves (/users/x, /groups/x, /actor) match neither.
OBJECTS = re.compile(r"^/(posts|notes)/[^/]+$")
COLLECTIONS = re.compile(r"^/(posts/[^/]+/replies|(users|groups)/[^/]+/[^/]+|actor/[^/]+)$")


def _refusal(status: int, message: str) -> Response:
    headers = {"Vary": "Accept, Signature"}
    if status == 401:
        headers["WWW-Authenticate"] = 'Signature headers="(request-target) host date"'
    body = json.dumps({"error": message})
    return Response(body, status, headers=headers, media_type="application/json")


async def check_fetch(node: Node, request: Request) -> Response | None:
    """None when the request may be served; otherwise the refusal to send."""
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    try:
        signer = await remote.verify_signature(
            node, request.method, target, dict(request.headers), b""
        )
    except SignatureError as exc:
        return _refusal(401, f"this node serves signed requests only ({exc.reason})")
    if await moderation.is_blocked(node.store, signer):
        return _refusal(403, "this server may not fetch from this node")
    return None


class AuthorizedFetch:
    """ASGI middleware: signed requests only, for ActivityPub JSON of objects and collections."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in ("GET", "HEAD"):
            request = Request(scope, receive)
            path = request.url.path
            wants_json = wants_activity_json(request.headers.get("accept", ""))
            if COLLECTIONS.match(path) or (wants_json and OBJECTS.match(path)):
                refusal = await check_fetch(request.app.state.node, request)
                if refusal is not None:
                    await refusal(scope, receive, send)
                    return
        await self.app(scope, receive, send)
