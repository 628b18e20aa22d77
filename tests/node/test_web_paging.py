"""Every list is reachable: following `rel="next"` from the first page of a list reaches every
item once, whatever arrives while someone reads, and a post's comments come in pages of whole
threads, none left out."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import httpx

from node.content import publishing
from node.federation.actors import local_actor
from node.storage import NoteRow, PostRow, utcnow

from ..conftest import TEST_URL
from .conftest import Network
from .test_page_queries import approved_comment
from .web import add_many_members, add_member, sign_in

NEXT = re.compile(r'<a rel="next" href="([^"]+)"')
HEAD_NEXT = re.compile(r'<link rel="next" href="([^"]+)"')
PREV = re.compile(r'<a rel="prev" href="([^"]+)"')
POST_LINK = re.compile(r'<a href="(?:https://conode\.example)?/posts/([\w-]+)">')
COMMENT = re.compile(r'<article class="comment" id="comment-(\d+)"')


async def _seed_posts(network: Network, count: int, kind: str = "report") -> list[PostRow]:
    """`count` posts by ben; every five share a publication time (the row id breaks ties)."""
    node = network.node
    row = await node.store.local_actor("ben")
    assert row is not None
    author = local_actor(node.settings, row)
    start = utcnow() - timedelta(days=30)
    stored = []
    for n in range(count):
        draft = publishing.Draft(kind, f"{kind.title()} number {n}", f"Body {n}. #paging")  # type: ignore[arg-type]
        post = replace(
            publishing.post_row(author, draft), published_at=start + timedelta(minutes=n // 5)
        )
        stored.append(await node.store.insert_post(post))
    return stored


async def _walk(
    http: httpx.AsyncClient, path: str, found: re.Pattern[str]
) -> tuple[list[str], int]:
    """Everything `found` matches on the list's pages, following rel="next" from `path`."""
    items: list[str] = []
    pages = 0
    url: str | None = path
    while url is not None:
        response = await http.get(f"{TEST_URL}{url}", headers={"Accept": "text/html"})
        assert response.status_code == 200, response.text[:300]
        pages += 1
        assert pages < 100, "the pages never end"
        items += found.findall(response.text)
        link = NEXT.search(response.text)
        head = HEAD_NEXT.search(response.text)
        assert (link is None) == (head is None), "rel=next in the page and the head differ"
        url = link.group(1).replace("&amp;", "&") if link else None
        if link and head:
            assert link.group(1) == head.group(1)
    return items, pages


async def test_every_post_is_reachable_from_the_home_page_by_rel_next(network: Network) -> None:
    posts = await _seed_posts(network, 250)
    found, pages = await _walk(network.http, "/", POST_LINK)
    assert sorted(found) == sorted(p.public_id for p in posts)  # each once, none left out
    assert pages == 13


async def test_pages_stay_put_while_new_posts_arrive(network: Network) -> None:
    # Given someone on the first page of 60 posts
    posts = await _seed_posts(network, 60)
    first = await network.http.get(f"{TEST_URL}/", headers={"Accept": "text/html"})
    seen = POST_LINK.findall(first.text)
    next_url = NEXT.search(first.text)
    assert next_url is not None
    # When 7 new posts arrive before they follow "next"
    for n in range(7):
        await network.post(f"Breaking news {n}")
    rest, _ = await _walk(network.http, next_url.group(1), POST_LINK)
    # Then they see every older post once: nothing repeated, nothing skipped
    assert sorted(seen + rest) == sorted(p.public_id for p in posts)


async def test_rel_prev_leads_back_to_the_pages_before(network: Network) -> None:
    await _seed_posts(network, 45)
    first = (await network.http.get(f"{TEST_URL}/")).text
    assert PREV.search(first) is None
    second = (await network.http.get(TEST_URL + NEXT.findall(first)[0])).text
    third = (await network.http.get(TEST_URL + NEXT.findall(second)[0])).text
    assert NEXT.search(third) is None
    back = (await network.http.get(TEST_URL + PREV.findall(third)[0].replace("&amp;", "&"))).text
    assert POST_LINK.findall(back) == POST_LINK.findall(second)
    again = (await network.http.get(TEST_URL + PREV.findall(back)[0].replace("&amp;", "&"))).text
    assert POST_LINK.findall(again) == POST_LINK.findall(first)
    assert PREV.search(again) is None


async def test_every_post_is_reachable_on_profiles_tags_and_the_network_feed(
    network: Network,
) -> None:
    posts = await _seed_posts(network, 45)
    wanted = sorted(p.public_id for p in posts)
    for path in ("/@ben", "/tags/paging", "/network"):
        found, pages = await _walk(network.http, path, POST_LINK)
        assert sorted(found) == wanted, path
        assert pages >= 3, path


async def test_every_offer_is_reachable_on_the_board(network: Network) -> None:
    posts = await _seed_offers(network, 45)
    found, _ = await _walk(network.http, "/offers?state=all", POST_LINK)
    assert sorted(set(found)) == sorted(p.public_id for p in posts)


async def _seed_offers(network: Network, count: int) -> list[PostRow]:
    from node.offers import proposals as offers

    row = await network.node.store.local_actor("ben")
    assert row is not None
    author = local_actor(network.node.settings, row)
    made = []
    for n in range(count):
        draft = publishing.Draft("offer", f"Offer number {n}", "Details.")
        terms = offers.OfferDraft(category="gardening", hours="1")
        made.append(await offers.create_offer(network.node, author, draft, terms))
    return made


async def test_a_page_link_we_did_not_make_is_a_clear_400(network: Network) -> None:
    post_url = await network.post()
    for query in ("/?after=abc", "/?before=1.2.3", "/@ben?after=" + "9" * 50):
        response = await network.http.get(f"{TEST_URL}{query}")
        assert response.status_code == 400, query
        assert "page link" in response.text
    response = await network.http.get(f"{post_url}?comments=x")
    assert response.status_code == 400


async def _seed_comments(network: Network, post_url: str, count: int) -> list[NoteRow]:
    """`count` approved comments: a thread every fourth, the others replies within it."""
    post = await network.node.store.post(post_url.rsplit("/", 1)[1])
    assert post is not None
    notes: list[NoteRow] = []
    parent = post_url
    for n in range(count):
        author = f"https://mastodon.example/users/u{n}"
        note = approved_comment(post.id, post_url, author, n)
        note = replace(note, published_at=note.published_at - timedelta(days=1))  # before now
        if n % 4:
            note = replace(note, in_reply_to=parent)
        assert await network.node.store.insert_note(note)
        stored = await network.node.store.note(note.object_id)
        assert stored is not None
        notes.append(stored)
        parent = note.object_id if n % 4 != 3 else post_url
    return notes


async def test_every_comment_is_reachable_from_its_post(network: Network) -> None:
    post_url = await network.post("A lively discussion")
    notes = await _seed_comments(network, post_url, 700)
    path = post_url.removeprefix(TEST_URL)
    found, pages = await _walk(network.http, path, COMMENT)
    assert sorted(int(n) for n in found) == sorted(n.id or 0 for n in notes)
    assert pages == 4  # 175 threads of four, 50 threads a page
    page = (await network.http.get(post_url)).text
    assert "700 comments" in page


async def test_a_thread_stays_whole_on_one_page(network: Network) -> None:
    post_url = await network.post("A lively discussion")
    await _seed_comments(network, post_url, 220)
    first = (await network.http.get(post_url)).text
    second = (await network.http.get(f"{post_url}?comments=2")).text
    # thread 50 (comments 200-203) opens the second page, with all its replies
    assert ">comment 199<" in first and ">comment 200<" not in first
    assert all(f">comment {n}<" in second for n in range(200, 204))
    missing = await network.http.get(f"{post_url}?comments=3")
    assert missing.status_code == 404


async def test_the_moderation_queue_log_and_members_are_paged(network: Network) -> None:
    store, settings = network.node.store, network.node.settings
    await add_member(store, settings, "mona", admin=True)
    await add_many_members(store, 120)
    post_url = await network.post("Held comments")
    post = await store.post(post_url.rsplit("/", 1)[1])
    assert post is not None
    for n in range(45):
        note = approved_comment(post.id, post_url, f"https://mastodon.example/users/h{n}", n)
        await store.insert_note(replace(note, status="pending"))
    moderator = await store.local_actor("mona")
    assert moderator is not None
    for n in range(130):
        await store.record_moderation(moderator.id, "approve", str(n))
    await sign_in(network.http, "mona")
    queue, _ = await _walk(network.http, "/moderation", re.compile(r'id="queue-(\d+)"'))
    assert len(set(queue)) == 45
    members, _ = await _walk(network.http, "/admin/members", re.compile(r"/admin/members/(\w+)\""))
    assert {f"member{n:03}" for n in range(120)} <= set(members)
    log = (await network.http.get(f"{TEST_URL}/moderation/log")).text
    more = re.search(r'<a rel="next" href="(/moderation/log\?actions_after=[^"]+)"', log)
    assert more is not None
    older = (await network.http.get(TEST_URL + more.group(1))).text
    assert "<td>29</td>" in older and "<td>29</td>" not in log


async def test_a_members_reply_links_to_the_page_of_comments_that_shows_it(
    network: Network,
) -> None:
    # Given a post with 60 threads, and a member's comment that starts the 61st
    post_url = await network.post("A lively discussion")
    await _seed_comments(network, post_url, 240)
    await add_member(network.node.store, network.node.settings, "ann")
    await sign_in(network.http, "ann")
    page = (await network.http.get(post_url)).text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page)
    assert csrf is not None
    sent = await network.http.post(
        f"{post_url}/comments", data={"csrf": csrf.group(1), "body": "Late to the party"}
    )
    assert sent.status_code == 303, sent.text[:300]
    (note,) = [
        n
        for n in await network.node.store.visible_comments(
            (await network.node.store.post(post_url.rsplit("/", 1)[1])).id or 0,
            limit=1000,  # type: ignore[union-attr]
        )
        if n.local_author_id is not None
    ]
    # When its /notes/ URL is opened in a browser, it leads to page 2, where the comment is
    assert note.document is not None
    note_url = json.loads(note.document)["id"]
    moved = await network.http.get(note_url, headers={"Accept": "text/html"})
    assert moved.status_code == 303
    assert moved.headers["location"] == f"{post_url}?comments=2#comment-{note.id}"
    shown = (await network.http.get(moved.headers["location"])).text
    assert f'id="comment-{note.id}"' in shown


async def test_the_archive_lists_every_month_and_each_month_its_posts(network: Network) -> None:
    # Given posts in three months (and none in the month between two of them)
    node = network.node
    row = await node.store.local_actor("ben")
    assert row is not None
    author = local_actor(node.settings, row)
    now = utcnow()
    this_month = datetime(now.year, now.month, 1, tzinfo=UTC)
    moments = {"old": this_month - timedelta(days=70), "recent": this_month + timedelta(hours=1)}
    for name, moment in moments.items():
        draft = publishing.Draft("report", f"The {name} report", "Text.")
        await node.store.insert_post(
            replace(publishing.post_row(author, draft), published_at=moment)
        )
    # Then the archive lists every month from the first post's to this one
    archive = (await network.http.get(f"{TEST_URL}/archive")).text
    months = re.findall(r'<a href="(/archive/\d{4}-\d{2})">', archive)
    assert months[0] == f"/archive/{this_month:%Y-%m}"
    assert months[-1] == f"/archive/{moments['old']:%Y-%m}"
    assert len(months) in (3, 4)  # 70 days back spans three or four calendar months
    # and each month shows only what was published in it
    old = (await network.http.get(f"{TEST_URL}{months[-1]}")).text
    assert "The old report" in old and "The recent report" not in old
    recent = (await network.http.get(f"{TEST_URL}{months[0]}")).text
    assert "The recent report" in recent and "The old report" not in recent
    assert (await network.http.get(f"{TEST_URL}/archive/June")).status_code == 404
