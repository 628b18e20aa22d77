"""View counts on posts: one per page load by a person's browser, none for bots, HEAD or
ActivityPub fetches, and nothing personal kept."""

from __future__ import annotations

import re

from node import schema

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
