"""Pages kept before anyone asks for them. Each web process of `conode serve` looks at the
content version every FRESH_SECONDS (a query as small as any, twice a second) and,
when it has moved and a post was published since it last looked (here, by the CLI, by another
process), renders that post's page and ActivityPub JSON and the home page through the app
itself, as an anonymous visitor would get them.

Why: a post that is boosted widely is fetched by hundreds of servers within seconds. Without a
kept copy, every one of them waits for the first render, which under that load takes several
turns of a busy event loop; with one, they are answered at once, and later changes (a comment)
are rendered while the copy before them is still served (node/cache/pages.py, `earlier`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import httpx
from starlette.types import ASGIApp

from activitypub.vocab import ACTIVITY_JSON
from node.cache.pages import FRESH_SECONDS
from node.context import Node

logger = logging.getLogger(__name__)

NEWEST = 5  # posts looked at each time the version moves: those published since the last look
# Who the rate limiter charges these requests to: no client of the network has this address.
CLIENT = ("prerender", 0)


async def run(app: ASGIApp, node: Node, stop: asyncio.Event) -> None:
    """Until `stop` is set: render what was published since the last look, after each move
    of the content version."""
    transport = httpx.ASGITransport(app=app, client=CLIENT)
    async with httpx.AsyncClient(transport=transport, base_url=node.settings.url) as client:
        seen: int | None = None
        newest: int | None = None
        failing = False
        while not stop.is_set():
            try:
                # its own query: the version requests use (node.versions) is read by them, so
                # that one a request reads after another process's write is always new
                version = await node.store.content_version()
                if version != seen:
                    seen = version
                    newest = await _render_new(node, client, newest)
                failing = False
            except Exception:  # the database may be restarting: look again later
                if not failing:  # said once, not twice a second until it is back
                    logger.exception("could not render new pages ahead of their first visitor")
                failing = True
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), FRESH_SECONDS)


async def _render_new(node: Node, client: httpx.AsyncClient, newest: int | None) -> int:
    """Render the posts whose row id is past `newest` (None: this is the first look, and what
    is there already is not new), and the home page if there were any; returns the new
    `newest`."""
    posts = await node.store.recent_posts(NEWEST)
    top = max((post.id or 0 for post in posts), default=newest or 0)
    if newest is None:
        return top
    fresh = [post for post in posts if (post.id or 0) > newest]
    for post in fresh:
        for accept in ("text/html", ACTIVITY_JSON):
            await client.get(f"/posts/{post.public_id}", headers={"Accept": accept})
    if fresh:
        await client.get("/", headers={"Accept": "text/html"})
    return top
