"""Remote people's pictures: fetched once by the worker through the guarded client, served from
our origin beside their comments; a private address is refused and a placeholder shows."""

from __future__ import annotations

import dataclasses
import io
from typing import Any

from PIL import Image
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from activitypub.client import FetchPolicy
from node.content import avatars
from node.moderation import rules as moderation

from ..conftest import TEST_URL
from ..fediverse import FakeServer
from .conftest import Network
from .test_notifications import _report
from .web import add_member

PICTURE_URL = "https://files.example/dana.png"


class PictureServer(FakeServer):
    """A Mastodon-shaped server whose people carry an `icon`."""

    icons: dict[str, str]

    def actor(self, name: str) -> dict[str, Any]:
        icon = {"type": "Image", "mediaType": "image/png", "url": self.icons[name]}
        return {**super().actor(name), "icon": icon}


def _files(hits: list[str]) -> Starlette:
    out = io.BytesIO()
    Image.new("RGB", (200, 120), (10, 120, 200)).save(out, "PNG")

    async def picture(request: Request) -> Response:
        hits.append(request.url.path)
        return Response(out.getvalue(), media_type="image/png")

    return Starlette(routes=[Route("/dana.png", picture)])


async def test_a_remote_commenters_picture_is_fetched_once_and_served_here(
    network: Network,
) -> None:
    hits: list[str] = []
    network.fediverse.add("files.example", _files(hits))
    pics = PictureServer("pics.example", network.fediverse)
    pics.icons = {"dana": PICTURE_URL}
    pics.add_user("dana")
    await add_member(network.node.store, network.node.settings, "ann")
    object_id = await _report(network, "ann")
    # When dana comments from her server and the comment is approved
    reply = pics.reply("dana", object_id, "Lovely work")
    assert (await pics.send("dana", reply, f"{TEST_URL}/inbox")).status_code == 202
    await network.drain()
    note = await network.node.store.note(reply["object"]["id"])
    assert note is not None and note.id is not None
    await moderation.set_comment_status(network.node.store, note.id, "approved")
    await network.drain()
    # Then her picture shows beside the comment, from our origin
    page = await network.http.get(object_id)
    path = f"/avatars/{avatars.avatar_key(pics.actor_id('dana'))}"
    assert f'src="{path}"' in page.text and "files.example" not in page.text
    served = await network.http.get(f"{TEST_URL}{path}")
    assert served.status_code == 200 and served.headers["content-type"] == "image/jpeg"
    assert Image.open(io.BytesIO(served.content)).size == (96, 96)
    # And it was fetched once, however often the page or the worker run
    await network.drain()
    await network.http.get(object_id)
    assert hits == ["/dana.png"]


async def test_a_private_address_picture_is_refused_and_a_placeholder_shows(
    network: Network,
) -> None:
    # Given a remote actor whose icon points into our own network
    pics = PictureServer("pics.example", network.fediverse)
    pics.icons = {"dana": "http://127.0.0.1:9/secret.png"}
    pics.add_user("dana")
    await network.node.store.upsert_remote_actor(await _actor_row(network, pics, "dana"))
    # When the worker, guarded as in production, goes for it
    guarded = dataclasses.replace(network.node, fetch_policy=FetchPolicy())
    assert await avatars.fetch_due(guarded) == 1
    # Then nothing was fetched, the refusal is remembered, and a placeholder is served
    key = avatars.avatar_key(pics.actor_id("dana"))
    stored = await network.node.store.remote_avatar(key)
    assert stored is not None and stored["data"] is None and "private" in str(stored["problem"])
    assert await avatars.fetch_due(guarded) == 0  # not tried again
    served = await network.http.get(f"{TEST_URL}/avatars/{key}")
    assert served.status_code == 200 and served.headers["content-type"] == "image/svg+xml"
    assert served.text.startswith("<svg") and "<script" not in served.text
    assert (await network.http.get(f"{TEST_URL}/avatars/not-a-key")).status_code == 404


async def _actor_row(network: Network, server: FakeServer, name: str) -> Any:
    from node.federation import remote

    return remote.actor_row(server.actor(name), server.actor_id(name))
