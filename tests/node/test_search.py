"""Search through the header's box: posts, offers and requests, members and the linked
network, best first, matching words marked and everything else escaped; deleted, suspended and
non-public things are never found. The index is kept by the database in the transaction of
each write (migration 0015), so these run the same on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import re
from dataclasses import asdict
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import create_async_engine

from node.content import publishing
from node.federation.actors import LocalActor, local_actor
from node.offers import proposals as offers
from node.settings import Settings
from node.storage import MIGRATIONS_DIR, Store, async_url, migrate
from node.storage.schema import posts

from ..conftest import TEST_URL
from .conftest import Network
from .test_links import PUBLIC, _announce, _article, _linked
from .web import add_member, sign_in

BROWSER = {"Accept": "text/html"}
HIT = re.compile(r'<article class="summary search-hit">\s*<h3><a href="([^"]+)">')


async def _search(http: httpx.AsyncClient, query: str, **filters: str) -> httpx.Response:
    response = await http.get(f"{TEST_URL}/search", params={"q": query, **filters}, headers=BROWSER)
    assert response.status_code == 200, response.text[:300]
    return response


async def _found(http: httpx.AsyncClient, query: str, **filters: str) -> list[str]:
    return HIT.findall((await _search(http, query, **filters)).text)


async def _ben(network: Network) -> LocalActor:
    row = await network.node.store.local_actor("ben")
    assert row is not None
    return local_actor(network.node.settings, row)


async def test_every_page_has_the_search_box_in_its_header(network: Network) -> None:
    page = (await network.http.get(f"{TEST_URL}/", headers=BROWSER)).text
    assert re.search(r'<form role="search" action="/search"[^>]*>', page)
    assert 'name="q"' in page


async def test_search_finds_a_word_only_one_post_has_in_its_body(network: Network) -> None:
    # Given 30 posts, one of which says "quokka" deep in its body (not its title or summary)
    for n in range(30):
        await network.post(f"Report {n}", body=f"Opening paragraph {n}.\n\nMore about the canal.")
    wanted = await network.post(
        "Canal walk", body="We walked the canal.\n\nThen, to everyone's surprise, a quokka."
    )
    # When someone searches for it, then the one post is found, the word marked
    response = await _search(network.http, "Quokka")
    assert HIT.findall(response.text) == [wanted.removeprefix(TEST_URL)]
    assert "<mark>quokka</mark>" in response.text
    # and words are found by their beginning, as people type them
    assert await _found(network.http, "quok") == [wanted.removeprefix(TEST_URL)]


async def test_search_never_finds_a_deleted_post(network: Network) -> None:
    url = await network.post("Wombat sighting", body="A wombat by the lock gates.")
    assert await _found(network.http, "wombat") == [url.removeprefix(TEST_URL)]
    post = await network.node.store.post(url.rsplit("/", 1)[1])
    assert post is not None
    await publishing.delete_post(network.node, post)
    assert await _found(network.http, "wombat") == []


async def test_an_edited_post_is_found_by_its_new_words_only(network: Network) -> None:
    url = await network.post("Bake sale", body="Scones and jam.")
    post = await network.node.store.post(url.rsplit("/", 1)[1])
    assert post is not None
    await publishing.edit_post(network.node, post, title=None, body="Flapjacks only.", summary=None)
    assert await _found(network.http, "scones") == []
    assert await _found(network.http, "flapjacks") == [url.removeprefix(TEST_URL)]


async def test_search_finds_offers_by_category_and_place_and_filters_by_kind(
    network: Network,
) -> None:
    draft = publishing.Draft("offer", "Help with hedges", "I have shears.")
    terms = offers.OfferDraft(category="Gardening", hours="2", place="Millbrook")
    offer = await offers.create_offer(network.node, await _ben(network), draft, terms)
    report = await network.post("Millbrook meeting", body="Notes from Millbrook.")
    assert await _found(network.http, "millbrook", kind="offers") == [f"/posts/{offer.public_id}"]
    assert await _found(network.http, "millbrook", kind="posts") == [report.removeprefix(TEST_URL)]
    assert await _found(network.http, "gardening") == [f"/posts/{offer.public_id}"]


async def test_search_ranks_a_title_match_above_a_body_match(network: Network) -> None:
    in_body = await network.post("Weekly notes", body="Someone mentioned the allotment.")
    in_title = await network.post("Allotment open day", body="Come along on Sunday.")
    found = await _found(network.http, "allotment")
    assert found == [in_title.removeprefix(TEST_URL), in_body.removeprefix(TEST_URL)]


async def test_search_finds_members_but_not_suspended_or_deleted_ones(network: Network) -> None:
    store, settings = network.node.store, network.node.settings
    await add_member(store, settings, "mona", admin=True)
    await add_member(store, settings, "zebedee")
    await add_member(store, settings, "zebulon")
    assert sorted(await _found(network.http, "zeb", kind="members")) == ["/@zebedee", "/@zebulon"]
    from node.accounts import members as accounts

    mona = await store.local_actor("mona")
    zebulon = await store.local_actor("zebulon")
    assert mona is not None and zebulon is not None
    await accounts.change(network.node, local_actor(settings, mona), zebulon, "suspend")
    assert await _found(network.http, "zeb", kind="members") == ["/@zebedee"]


async def test_search_text_is_escaped_and_query_syntax_is_inert(network: Network) -> None:
    url = await network.post("Tea <b>party</b>", body="Bring <script>alert(1)</script> cake.")
    response = await _search(network.http, '<b>" cake* ^(')
    assert HIT.findall(response.text) == [url.removeprefix(TEST_URL)]
    assert "<script>alert" not in response.text
    assert "&lt;script&gt;" in response.text
    nothing = await _search(network.http, '"*^:()')
    assert HIT.findall(nothing.text) == []
    assert await _found(network.http, "wombat OR cake") == []  # OR is a word, not an operator


async def test_search_covers_the_linked_network_but_never_a_followers_only_post(
    network: Network,
) -> None:
    # Given gts.example is linked, and its Group passes on a public article and one for
    # carol's followers only, both about capybaras
    await _linked(network)
    public = _article(network, name="carol", content="<p>A capybara came to the pond.</p>")
    hidden = _article(
        network,
        name="carol",
        content="<p>Our secret capybara plans.</p>",
        to=[f"{network.other.actor_id('carol')}/followers"],
        cc=[],
    )
    await _announce(network, public["id"])
    await _announce(network, hidden["id"])
    assert public["to"] == [PUBLIC]
    # When someone searches, then only the public one is found, shown as from gts.example
    response = await _search(network.http, "capybara")
    assert HIT.findall(response.text) == [public["id"]]
    assert "gts.example" in response.text
    assert await _found(network.http, "capybara", scope="here") == []
    assert await _found(network.http, "capybara", scope="network") == [public["id"]]
    assert await _found(network.http, "secret") == []


async def test_a_signed_in_member_searches_the_same_way(network: Network) -> None:
    await add_member(network.node.store, network.node.settings, "mona")
    url = await network.post("Quiz night", body="Questions about rivers.")
    await sign_in(network.http, "mona")
    assert await _found(network.http, "rivers") == [url.removeprefix(TEST_URL)]


def test_the_migration_indexes_what_was_written_before_it(settings: Settings) -> None:
    database_url = settings.database_url
    # Given a database from before search (migration 0015 undone) with a post in it
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["database_url"] = database_url
    values = asyncio.run(_a_post(settings))  # read with today's columns, before going back
    command.downgrade(config, "0014")  # the revision before search
    asyncio.run(_write_a_post(settings, values))
    # When the node is upgraded, then the post is found
    migrate(database_url)
    assert asyncio.run(_search_store(database_url, ["platypus"])) == ["Older report"]


async def _a_post(settings: Settings) -> dict[str, Any]:
    """A post by ben, as the columns of the posts table."""
    store = Store(settings.database_url)
    await store.connect()
    try:
        row = await store.local_actor("ben")
        assert row is not None
        draft = publishing.Draft("report", "Older report", "A platypus in the weir.")
        post = publishing.post_row(local_actor(settings, row), draft)
        return {k: v for k, v in asdict(post).items() if k not in ("id", "mentions", "language")}
    finally:
        await store.disconnect()


async def _write_a_post(settings: Settings, values: dict[str, Any]) -> None:
    """A post as revision 0014 stored it (written with that revision's columns only)."""
    engine = create_async_engine(async_url(settings.database_url))
    try:
        async with engine.begin() as connection:
            await connection.execute(posts.insert().values(**values))
    finally:
        await engine.dispose()


async def _search_store(database_url: str, terms: list[str]) -> list[str]:
    store = Store(database_url)
    await store.connect()
    try:
        return [post.title for post in await store.search_posts(terms, kinds=("report",))]
    finally:
        await store.disconnect()
