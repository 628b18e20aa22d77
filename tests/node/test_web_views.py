"""View counts on posts: one per page load by a person's browser, none for bots, HEAD or
ActivityPub fetches, and nothing personal kept."""

from __future__ import annotations

import re

from node.cache.views import FLUSH_EVERY, ViewCounter
from node.content import publishing
from node.context import flush_views, open_node
from node.federation.actors import local_actor
from node.settings import Settings
from node.storage import Store, schema

from ..conftest import TEST_URL
from .conftest import Network

BROWSER = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/126.0"}
BOTS = [
    "Googlebot/2.1 (+http://www.google.com/bot.html)",
    "http.rb/5.1.1 (Mastodon/4.3.0; +https://mastodon.example/)",
    "curl/8.5.0",
    "",
]


def _views(page: str) -> int:
    match = re.search(r"(\d+) views?\b", page)
    assert match, "the post page shows no view count"
    return int(match.group(1))


async def test_each_page_load_counts_one_view_and_the_page_shows_it(network: Network) -> None:
    post_url = await network.post()
    first = await network.http.get(post_url, headers=BROWSER)
    assert _views(first.text) == 1
    await network.http.get(post_url, headers=BROWSER)
    third = await network.http.get(post_url, headers=BROWSER)
    assert _views(third.text) == 3


async def test_bots_head_and_activitypub_fetches_are_not_counted(network: Network) -> None:
    post_url = await network.post()
    for agent in BOTS:
        await network.http.get(post_url, headers={"User-Agent": agent})
    await network.http.head(post_url, headers=BROWSER)
    await network.http.get(post_url, headers={**BROWSER, "Accept": "application/activity+json"})
    page = await network.http.get(post_url, headers=BROWSER)
    assert _views(page.text) == 1  # only this one


def test_the_view_counter_keeps_nothing_about_the_viewer() -> None:
    assert set(schema.post_views.c.keys()) == {"post_id", "views"}


async def test_an_unknown_post_counts_nothing(network: Network) -> None:
    response = await network.http.get(f"{TEST_URL}/posts/nope", headers=BROWSER)
    assert response.status_code == 404
    assert await network.node.store.views_of(1) == 0


async def test_views_are_written_in_one_batch_and_counted_after_the_flush(
    network: Network,
) -> None:
    post_url = await network.post()
    post = await network.node.store.post(post_url.rsplit("/", 1)[1])
    assert post is not None and post.id is not None
    for _ in range(3):
        await network.http.get(post_url, headers=BROWSER)
    assert await network.node.store.views_of(post.id) == 0  # no write per page view
    await flush_views(network.node)
    assert await network.node.store.views_of(post.id) == 3
    page = await network.http.get(post_url, headers=BROWSER)
    assert _views(page.text) == 4


async def test_each_processs_views_add_to_the_others(network: Network) -> None:
    post_url = await network.post()
    post = await network.node.store.post(post_url.rsplit("/", 1)[1])
    assert post is not None and post.id is not None
    await network.http.get(post_url, headers=BROWSER)
    await network.node.store.add_views({post.id: 5})  # what another process flushed meanwhile
    await flush_views(network.node)
    assert await network.node.store.views_of(post.id) == 6


async def test_views_still_pending_are_written_when_the_process_stops(settings: Settings) -> None:
    async with open_node(settings) as node:
        member = await node.store.local_actor("ben")
        assert member is not None
        post = await publishing.create_post(
            node, local_actor(node.settings, member), publishing.Draft("blog", "Hi", "Hello.")
        )
        node.views.add(post.id or 0)
    store = Store(settings.database_url)
    await store.connect()
    try:
        assert await store.views_of(post.id or 0) == 1
    finally:
        await store.disconnect()


def test_a_process_writes_its_views_every_few_seconds_not_on_every_view() -> None:
    now = [100.0]
    counter = ViewCounter(clock=lambda: now[0])
    counter.add(7)
    assert not counter.due()
    now[0] += FLUSH_EVERY
    assert counter.due()
    assert counter.take() == {7: 1}
    now[0] += FLUSH_EVERY
    assert not counter.due()  # nothing to write
