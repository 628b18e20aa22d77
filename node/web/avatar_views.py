"""Pictures of people, always from our origin: remote people's as the worker fetched them
(node/content/avatars.py), members' own uploads, and a generated placeholder otherwise."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from node.content import avatars
from node.federation.actors import AVATAR_MEDIA_TYPE, AVATAR_SMALL, local_actor

from .responses import error_page, node_of

HEADERS = {"X-Content-Type-Options": "nosniff", "Content-Security-Policy": "default-src 'none'"}


def _picture(data: bytes, max_age: int) -> Response:
    headers = {**HEADERS, "Cache-Control": f"public, max-age={max_age}"}
    return Response(data, media_type=AVATAR_MEDIA_TYPE, headers=headers)


def _placeholder(key: str) -> Response:
    # Short-lived: the real picture may arrive with the worker's next pass.
    headers = {**HEADERS, "Cache-Control": "public, max-age=600"}
    return Response(avatars.identicon(key), media_type="image/svg+xml", headers=headers)


async def remote_avatar(request: Request) -> Response:
    key = request.path_params["key"]
    if len(key) != 32 or not all(c in "0123456789abcdef" for c in key):
        return error_page(request, 404, "No such picture.")
    row = await node_of(request).store.remote_avatar(key)
    data = row.get("data") if row else None
    return (
        _picture(bytes(data), 86400) if isinstance(data, bytes | memoryview) else _placeholder(key)
    )


async def member_avatar(request: Request) -> Response:
    node = node_of(request)
    row = await node.store.local_actor(request.path_params["username"].lower())
    if row is None:
        return error_page(request, 404, "No member by that name here.")
    media = await node.store.media(f"{row.avatar_id}-{AVATAR_SMALL}") if row.avatar_id else None
    if media is not None and row.deleted_at is None:
        return _picture(media.data, 300)
    return _placeholder(avatars.avatar_key(local_actor(node.settings, row).actor_id))
