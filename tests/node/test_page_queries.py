"""Pages make a fixed number of queries, whatever the number of comments or posts on them:
N+1 queries are ruled out by counting every statement the Store sends while a page is served
over HTTP (the real database answers each; the count wraps it, nothing is replaced). A page
kept for anonymous visitors costs no query while nothing was written (node/cache/pages.py); an
inbox POST none but the batch that stores it."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest

from node.cache import pages
from node.content import identity, publishing
from node.federation.actors import local_actor
from node.offers import proposals as offers
from node.storage import NoteRow, Store, utcnow

from .conftest import Network
from .web import add_member, sign_in

COUNTED = ("fetch_all", "fetch_one", "fetch_val", "execute", "execute_many", "iterate")


class CountingDatabase:
    """Delegates to the Store's database handle (node/storage/database.py), counting the
    statements sent."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.count = 0

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._inner, name)
        if name not in COUNTED:
            return attribute

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.count += 1
            return attribute(*args, **kwargs)

        return counted


def approved_comment(post_id: int | None, post_url: str, author: str, n: int) -> NoteRow:
    """A public comment `n` by `author` on the post, approved, `n` seconds from now."""
    now = utcnow()
    return NoteRow(
        object_id=f"{author}/statuses/{n}",
        post_id=post_id,
        in_reply_to=post_url,
        author_id=author,
        local_author_id=None,
        host=author.split("/")[2],
        url=None,
        content_html=f"<p>comment {n}</p>",
        summary=None,
        sensitive=False,
        public=True,
        status="approved",
        published_at=now + timedelta(seconds=n),
        created_at=now,
    )


async def _comments(network: Network, post_url: str, count: int, start: int = 0) -> None:
    post = await network.node.store.post(post_url.rsplit("/", 1)[1])
    assert post is not None
    for n in range(start, start + count):
        author = f"https://mastodon.example/users/u{n}"
        assert await network.node.store.insert_note(approved_comment(post.id, post_url, author, n))


async def _queries_for(network: Network, url: str, expect: str, accept: str = "text/html") -> int:
    store = network.node.store
    # the look is read at most once a moment per process (node/cache/look.py), not per page:
    # read it now so that the page counted does not pay for it
    await identity.refresh(network.node)
    counter = CountingDatabase(store._db)
    store._db = counter
    try:
        response = await network.http.get(url, headers={"Accept": accept})
    finally:
        store._db = counter._inner
    assert response.status_code == 200, response.text[:500]
    assert expect in response.text
    return counter.count


async def test_a_post_page_costs_the_same_queries_with_5_or_60_comments(network: Network) -> None:
    post_url = await network.post("Picnic on Saturday")
    await _comments(network, post_url, 5)
    few = await _queries_for(network, post_url, "comment 4")
    await _comments(network, post_url, 55, start=5)
    many = await _queries_for(network, post_url, "comment 49")  # 50 threads a page
    print(f"\npost page: {few} queries with 5 comments, {many} with 60")
    assert many == few
    assert few <= 20


async def test_the_home_page_costs_the_same_queries_with_2_or_12_posts(network: Network) -> None:
    for n in range(2):
        await network.post(f"Report {n}")
    home = "https://conode.example/"
    few = await _queries_for(network, home, "Report 1")
    for n in range(2, 12):
        await network.post(f"Report {n}")
    many = await _queries_for(network, home, "Report 11")
    print(f"\nhome page: {few} queries with 2 posts, {many} with 12")
    assert many == few
    assert few <= 20


async def _offer_by_a_new_member(network: Network, n: int) -> None:
    name = f"member{n}"
    await add_member(network.node.store, network.node.settings, name)
    row = await network.node.store.local_actor(name)
    assert row is not None
    draft = publishing.Draft("offer", f"Offer {n}", "Details.")
    terms = offers.OfferDraft(category="gardening", hours="1")
    await offers.create_offer(network.node, local_actor(network.node.settings, row), draft, terms)


async def test_the_offers_board_costs_the_same_queries_with_2_or_12_authors(
    network: Network,
) -> None:
    for n in range(2):
        await _offer_by_a_new_member(network, n)
    board = "https://conode.example/offers"
    few = await _queries_for(network, board, "Offer 1")
    for n in range(2, 12):
        await _offer_by_a_new_member(network, n)
    many = await _queries_for(network, board, "Offer 11")
    print(f"\noffers board: {few} queries with 2 authors, {many} with 12")
    assert many == few
    assert few <= 20


ACTIVITY_JSON = "application/activity+json"


async def test_a_kept_anonymous_page_or_document_costs_no_query(network: Network) -> None:
    """The content version is remembered until this process writes, or for a moment
    (node/cache/pages.py); until then a kept response is answered from memory alone."""
    post_url = await network.post("Picnic on Saturday")
    await _comments(network, post_url, 3)
    for url, expect, accept in (
        ("https://conode.example/", "Picnic on Saturday", "text/html"),
        (post_url, "comment 2", "text/html"),
        (post_url, "Picnic on Saturday", ACTIVITY_JSON),
        ("https://conode.example/users/ben", '"Person"', ACTIVITY_JSON),
    ):
        first = await _queries_for(network, url, expect, accept)
        kept = await _queries_for(network, url, expect, accept)
        print(f"\n{url} ({accept}): {first} queries, then {kept}")
        assert first >= 1  # rendering it asked the database
        assert kept == 0


async def test_a_write_in_this_process_shows_on_the_next_request(network: Network) -> None:
    post_url = await network.post("Picnic on Saturday")
    await _comments(network, post_url, 1)
    assert "comment 1" not in (await network.http.get(post_url)).text
    await _comments(network, post_url, 1, start=1)
    assert "comment 1" in (await network.http.get(post_url)).text


async def test_another_processs_write_shows_within_the_freshness_window(network: Network) -> None:
    """A write this process did not make (a second web process, `conode worker`, the CLI: here
    a second Store on the same database) is seen once the remembered version is older than
    FRESH_SECONDS."""
    post_url = await network.post("Picnic on Saturday")
    assert "comment 0" not in (await network.http.get(post_url)).text
    other = Store(network.node.store.url)
    await other.connect()
    try:
        post = await other.post(post_url.rsplit("/", 1)[1])
        assert post is not None
        author = "https://mastodon.example/users/u0"
        assert await other.insert_note(approved_comment(post.id, post_url, author, 0))
    finally:
        await other.disconnect()
    await asyncio.sleep(pages.FRESH_SECONDS)
    assert "comment 0" in (await network.http.get(post_url)).text


async def test_a_signed_in_member_gets_a_page_rendered_for_them(network: Network) -> None:
    post_url = await network.post("Picnic on Saturday")
    await _queries_for(network, post_url, "Sign in to comment")  # kept for anonymous visitors
    await add_member(network.node.store, network.node.settings, "ann")
    await sign_in(network.http, "ann")
    for _ in range(2):
        assert await _queries_for(network, post_url, 'name="csrf"') > 1
    response = await network.http.get(post_url, headers={"Accept": "text/html"})
    assert response.headers["cache-control"] == "private, no-store"
    assert "Sign in to comment" not in response.text


@pytest.mark.parametrize("inbox", ["/inbox", "/users/ben/inbox"])
async def test_an_inbox_post_sends_no_query_but_the_batch(network: Network, inbox: str) -> None:
    """Blocks are a list in memory, keys a cache, and so are the names of personal inboxes:
    a reply from a known server costs the insert of its batch (on SQLite not even through the
    Store: a writer thread commits it)."""
    post_url = await network.post("Picnic on Saturday")
    store = network.node.store
    counts = []
    for n in range(2):  # the first fetches alice's key and stores her
        reply = network.mastodon.reply("alice", post_url, f"Count me in {n}")
        counter = CountingDatabase(store._db)
        store._db = counter
        try:
            response = await network.mastodon.send("alice", reply, f"https://conode.example{inbox}")
        finally:
            store._db = counter._inner
        assert response.status_code == 202, response.text
        counts.append(counter.count)
    print(f"\n{inbox} POST: {counts[1]} queries through the Store")
    assert counts[1] == (0 if store.url.startswith("sqlite") else 1)


async def test_visitors_arriving_together_share_one_render_of_a_changed_page(
    network: Network,
) -> None:
    """A post fetched by everyone at once (a wide boost) is rendered once per version; the
    visitors arriving while it renders get the copy kept before (node/cache/pages.py: grace),
    and the next visitor the new one."""
    post_url = await network.post("Picnic on Saturday")
    await _comments(network, post_url, 1)
    alone = await _queries_for(network, post_url, "comment 0")
    await _comments(network, post_url, 1, start=1)  # a new version: what was kept is stale
    # the new version is read (by a visitor of another page), so the visitors below all know
    # the post's kept page is stale: each either renders it or gets the copy before
    assert (
        await network.http.get("https://conode.example/", headers={"Accept": "text/html"})
    ).status_code == 200
    store = network.node.store
    # the look is read at most once a moment per process (node/cache/look.py), not per page:
    # read it now so that the page counted does not pay for it
    await identity.refresh(network.node)
    counter = CountingDatabase(store._db)
    store._db = counter
    try:
        pages = await asyncio.gather(
            *(network.http.get(post_url, headers={"Accept": "text/html"}) for _ in range(10))
        )
    finally:
        store._db = counter._inner
    assert all(page.status_code == 200 and "comment 0" in page.text for page in pages)
    fresh = [page for page in pages if "comment 1" in page.text]
    assert 1 <= len(fresh) < len(pages)  # the renderer's; the rest had the copy before
    print(f"\n10 visitors at once: {counter.count} queries; one alone: {alone}")
    assert counter.count <= alone + 1  # one render, and at most two shared version reads
    later = await network.http.get(post_url, headers={"Accept": "text/html"})
    assert "comment 1" in later.text and later.headers["etag"] == fresh[0].headers["etag"]


async def test_a_held_batch_of_writes_tells_the_page_cache_once_at_its_end(
    network: Network,
) -> None:
    """A worker pass holds its writes (node/worker.py): pages are rendered again once after
    the pass rather than after each reply it stored; a request's own write counts at once."""
    store = network.node.store
    post_url = await network.post("Picnic on Saturday")
    before = store.writes
    go = asyncio.Event()
    other_task_saw: list[int] = []

    async def a_request_writing_meanwhile() -> None:  # started outside the held block
        await go.wait()
        await _comments(network, post_url, 1, start=10)
        other_task_saw.append(store.writes)

    request = asyncio.create_task(a_request_writing_meanwhile())
    with store.writes_held():
        await _comments(network, post_url, 3)
        assert store.writes == before  # not yet
        go.set()
        await request
        during = store.writes
    assert other_task_saw == [during] and during > before  # the request's write counted
    assert store.writes == during + 1  # the held three, as one
