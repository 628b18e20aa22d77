"""The inbox endpoints (shared and personal): cheapest check first, 202 once durably stored.

size cap → JSON → unknown-actor Delete dropped → block check (before any fetch) → signature →
signer is the actor → store (de-duplicated by id) → 202. Acting on the activity happens in the
worker (node/inbound/activities.py), so a slow remote server never holds the request.

`inbox_app` is the lean ASGI path `conode serve` takes for every inbox POST (node/app.py):
hardening headers and the rate limit, then this pipeline, without the router, the session or
the page look that only pages need.
"""

from __future__ import annotations

import json
import logging
import re

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import Receive, Scope, Send

from activitypub import webfinger
from activitypub.signatures import SignatureError
from activitypub.vocab import Document, id_of, type_of
from node.context import Node
from node.federation import limits, remote
from node.moderation import rules as moderation

from . import ratelimit
from .responses import node_of

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 1_048_576
ACCEPTED_MEDIA_TYPES = ("application/activity+json", "application/ld+json", "application/json")
# the shared inbox, the instance actor's, and each member's and Group's (node/routes.py)
INBOX_PATH = re.compile(r"/(?:actor/)?inbox|/(?:users|groups)/(?P<username>[^/]+)/inbox")


class InboxRefusal(Exception):
    """A request refused with a 4xx; `reason` goes to the activity log."""

    def __init__(self, status_code: int, reason: str) -> None:
        super().__init__(reason)
        self.status_code = status_code
        self.reason = reason
        self.activity: Document | None = None  # set once parsed, for the log


async def _read_capped(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise InboxRefusal(413, "body over 1 MB")
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > MAX_BODY_BYTES:
            raise InboxRefusal(413, "body over 1 MB")
    return bytes(body)


def _parse(request: Request, body: bytes) -> Document:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in ACCEPTED_MEDIA_TYPES:
        raise InboxRefusal(415, f"content type {media_type or 'missing'} is not ActivityPub JSON")
    try:
        activity = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise InboxRefusal(400, "malformed JSON") from None
    except RecursionError:
        raise InboxRefusal(400, f"nested deeper than {limits.MAX_DEPTH} levels") from None
    if not isinstance(activity, dict):
        raise InboxRefusal(400, "not a JSON object")
    try:
        limits.check_activity(activity)
    except limits.LimitError as exc:
        raise InboxRefusal(400, exc.reason) from None
    if not isinstance(activity.get("id"), str):
        raise InboxRefusal(400, "activity without an id")
    if type_of(activity) is None:
        raise InboxRefusal(400, "activity without a type")
    if not id_of(activity.get("actor")):
        raise InboxRefusal(400, "activity without an actor")
    return activity


def _target(scope: Scope) -> str:
    """The path and query as request.url gives them, without building the whole URL."""
    path = str(scope["path"]).replace("?", "%3F").replace("#", "%23").replace("\\", "%5C")
    query = bytes(scope.get("query_string", b"")).decode()
    return path + (f"?{query}" if query else "")


async def _verify(node: Node, request: Request, body: bytes) -> str:
    target = _target(request.scope)
    try:
        return await remote.verify_signature(
            node, request.method, target, dict(request.headers), body
        )
    except SignatureError as exc:
        raise InboxRefusal(401, f"signature: {exc.reason}") from exc


async def _is_unknown_actor_deleting_itself(node: Node, activity: Document, actor_id: str) -> bool:
    # Mastodon broadcasts account deletions to every server it knows; fetching the (gone)
    # actor to verify each would be thousands of useless requests.
    if activity.get("type") != "Delete" or id_of(activity.get("object")) != actor_id:
        return False
    return await node.store.remote_actor(actor_id) is None


async def receive(node: Node, request: Request) -> tuple[int, str, Document | None]:
    """Run the pipeline; returns (status, reason, activity when parsed)."""
    body = await _read_capped(request)
    activity = _parse(request, body)
    try:
        return await _accept(node, request, body, activity)
    except InboxRefusal as exc:
        exc.activity = activity
        raise


async def _accept(
    node: Node, request: Request, body: bytes, activity: Document
) -> tuple[int, str, Document | None]:
    recipient = request.path_params.get("username")
    if recipient is not None and not await _has_inbox(node, recipient.lower()):
        raise InboxRefusal(404, "no such inbox")
    actor_id = id_of(activity["actor"]) or ""
    if not remote.same_origin(id_of(activity["id"]) or "", actor_id):
        # Else one server could take another's activity ids, and the real activity would be
        # dropped as a duplicate when it came (Mastodon refuses these too).
        raise InboxRefusal(400, "activity id is not on the actor's host")
    if await _is_unknown_actor_deleting_itself(node, activity, actor_id):
        return 202, "dropped: delete of an unknown actor", activity
    if await moderation.is_blocked(node.store, actor_id, str(activity["id"])):
        return 202, "dropped: blocked", activity
    signer = await _verify(node, request, body)
    if signer != actor_id:
        raise InboxRefusal(401, "signer is not the activity's actor")
    request.scope.setdefault("state", {})[ratelimit.SIGNER_STATE] = signer  # charged to its server
    stored = await node.store.store_inbound_grouped(
        str(activity["id"]), actor_id, str(type_of(activity)), _as_text(body, activity), recipient
    )
    return 202, "queued" if stored else "duplicate: already received", activity


def _as_text(body: bytes, activity: Document) -> str:
    """The activity as it came, to be parsed again by the worker: no second encoding, unless
    it came in UTF-16 or UTF-32, which json.loads reads too."""
    try:
        return body.decode()
    except UnicodeDecodeError:
        return json.dumps(activity)


async def _has_inbox(node: Node, username: str) -> bool:
    """A personal inbox costs no query once its name was found (Node.inbox_names)."""
    if username in node.inbox_names:
        return True
    if await node.store.local_actor(username) is None:
        return False
    node.inbox_names.add(username)
    return True


def is_inbox_post(scope: Scope) -> bool:
    return scope["method"] == "POST" and INBOX_PATH.fullmatch(scope["path"]) is not None


async def inbox_app(scope: Scope, receive: Receive, send: Send) -> None:
    """An inbox POST answered without the router: `scope["app"]` is the node's app."""
    match = INBOX_PATH.fullmatch(scope["path"])
    username = match["username"] if match else None
    scope["path_params"] = {"username": username} if username is not None else {}
    response = await inbox_endpoint(Request(scope, receive))
    await response(scope, receive, send)


async def inbox_endpoint(request: Request) -> Response:
    node = node_of(request)
    activity: Document | None = None
    try:
        status, reason, activity = await receive(node, request)
    except InboxRefusal as exc:
        status, reason, activity = exc.status_code, exc.reason, exc.activity
    await _log(node, request, activity, status, reason)
    return PlainTextResponse(reason + "\n", status_code=status)


async def _log(
    node: Node, request: Request, activity: Document | None, status: int, reason: str
) -> None:
    if reason == "queued":
        return  # the worker logs what it does with it
    actor_id = id_of(activity.get("actor")) if activity else None
    outcome = "refused" if status >= 400 else reason.split(":")[0]
    await node.store.log(
        "inbound",
        outcome,
        reason,
        activity_id=id_of(activity.get("id")) if activity else None,
        type_=type_of(activity) if activity else None,
        actor_id=actor_id,
        host=webfinger.host_of(actor_id)
        if actor_id
        else request.client.host
        if request.client
        else None,
    )
    logger.info("inbox %s %s: %s", status, actor_id or "-", reason)
