"""A post published elsewhere (the CLI, another process) is rendered by each web process of
`conode serve` before anyone asks for it (node/web/prerender.py), so the first servers to fetch
it after a wide boost find it kept; and what a serving process's startup made is frozen out of
the garbage collector's full collections."""

from __future__ import annotations

import asyncio
import dataclasses
import gc

import httpx

from node.app import create_app
from node.content import publishing
from node.context import open_node
from node.federation.actors import local_actor
from node.settings import Settings
from node.web import prerender

from .test_page_queries import ACTIVITY_JSON, CountingDatabase


async def _publish_elsewhere(settings: Settings, title: str) -> str:
    """What `conode post create` does, from its own Store: another process's write."""
    async with open_node(settings) as other:
        member = await other.store.local_actor("ben")
        assert member is not None
        draft = publishing.Draft(kind="blog", title=title, body="Bring food.")
        post = await publishing.create_post(other, local_actor(settings, member), draft)
        return publishing.post_id(other, post)


async def test_a_post_published_elsewhere_is_kept_before_its_first_visitor(
    settings: Settings,
) -> None:
    settings = dataclasses.replace(settings, allow_private_networks=True)
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url=settings.url) as http,
    ):
        node = app.state.node
        stop = asyncio.Event()
        ahead = asyncio.create_task(prerender.run(app, node, stop))
        try:
            await asyncio.sleep(0.2)  # its first look: what is there already is not new
            assert len(node.pages) == 0
            post_url = await _publish_elsewhere(settings, "Picnic on Saturday")
            for _ in range(50):
                if len(node.pages) >= 3:
                    break
                await asyncio.sleep(0.1)
            assert len(node.pages) == 3  # the post's page, its JSON and the home page

            store = node.store
            counter = CountingDatabase(store._db)
            store._db = counter
            try:
                page = await http.get(post_url, headers={"Accept": "text/html"})
                document = await http.get(post_url, headers={"Accept": ACTIVITY_JSON})
                home = await http.get("/", headers={"Accept": "text/html"})
            finally:
                store._db = counter._inner
        finally:
            stop.set()
            await ahead
    assert "Picnic on Saturday" in page.text and "Picnic on Saturday" in home.text
    assert document.json()["name"] == "Picnic on Saturday"
    # no render: at most the version read the first request makes (a render is ten or more)
    assert counter.count <= 1


async def test_the_serving_process_keeps_what_startup_made_out_of_the_collector(
    settings: Settings,
) -> None:
    gc.unfreeze()
    app = create_app(settings, run_worker=True)
    try:
        async with app.router.lifespan_context(app):
            frozen = gc.get_freeze_count()
    finally:
        gc.unfreeze()
    assert frozen > 10_000  # the modules, compiled templates and catalogues, not a handful
