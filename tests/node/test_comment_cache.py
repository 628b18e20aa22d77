"""A post's comment list is rendered once per version of its comments and kept by each web
process for anonymous visitors (node/cache/comments.py): every change to what the list shows
must show on the very next view, in this process or any other on the same database, and
nothing per visitor may ever be kept."""

from __future__ import annotations

import asyncio

from node.cache import pages
from node.cache.comments import CommentCache, RenderedComments
from node.storage import NoteRow, RemoteActorRow, Store, utcnow

from .conftest import Network
from .test_page_queries import CountingDatabase, approved_comment
from .web import add_member, sign_in

ALICE = "https://mastodon.example/users/alice"


async def _comment(network: Network, post_url: str, n: int, author: str = ALICE) -> NoteRow:
    post = await network.node.store.post(post_url.rsplit("/", 1)[1])
    assert post is not None
    note = approved_comment(post.id, post_url, author, n)
    assert await network.node.store.insert_note(note)
    found = await network.node.store.note(note.object_id)
    assert found is not None
    return found


def _alice(name: str) -> RemoteActorRow:
    return RemoteActorRow(
        actor_id=ALICE,
        host="mastodon.example",
        type="Person",
        username="alice",
        name=name,
        profile_url="https://mastodon.example/@alice",
        inbox_url=f"{ALICE}/inbox",
        shared_inbox_url=None,
        key_id=f"{ALICE}#main-key",
        public_key_pem="",
        fetched_at=utcnow(),
    )


async def _page(network: Network, url: str) -> str:
    response = await network.http.get(url, headers={"Accept": "text/html"})
    assert response.status_code == 200
    return response.text


async def test_a_new_comment_shows_on_the_next_view_of_a_kept_list(network: Network) -> None:
    post_url = await network.post("Picnic on Saturday")
    await _comment(network, post_url, 1)
    assert "comment 1" in await _page(network, post_url)
    await _comment(network, post_url, 2)
    page = await _page(network, post_url)
    assert "comment 1" in page and "comment 2" in page
    assert "2 comments" in page


async def test_moderation_and_blocks_take_comments_off_a_kept_list(network: Network) -> None:
    post_url = await network.post()
    first = await _comment(network, post_url, 1)
    await _comment(network, post_url, 2, author="https://gts.example/users/carol")
    assert "comment 1" in await _page(network, post_url)
    # Rejected by a moderator
    await network.node.store.update_note(first.id or 0, status="rejected")
    page = await _page(network, post_url)
    assert "comment 1" not in page and "comment 2" in page
    # Everything from a blocked server taken down
    await network.node.store.set_status_of_notes_from(
        actor_id=None, host="gts.example", old="approved", new="rejected"
    )
    page = await _page(network, post_url)
    assert "comment 2" not in page and "No comments yet." in page


async def test_an_edited_remote_comment_shows_its_new_text(network: Network) -> None:
    post_url = await network.post()
    note = await _comment(network, post_url, 1)
    assert "comment 1" in await _page(network, post_url)
    await network.node.store.update_note(note.id or 0, content_html="<p>edited text</p>")
    page = await _page(network, post_url)
    assert "edited text" in page and "comment 1" not in page


async def test_a_remote_authors_new_name_shows_on_kept_lists(network: Network) -> None:
    post_url = await network.post()
    await _comment(network, post_url, 1)
    assert ">alice</a>" in await _page(network, post_url)  # from the id, until fetched
    await network.node.store.upsert_remote_actor(_alice("Alice"))
    assert ">Alice</a>" in await _page(network, post_url)
    await network.node.store.upsert_remote_actor(_alice("Alice Liddell"))
    assert ">Alice Liddell</a>" in await _page(network, post_url)


async def test_another_process_on_the_same_database_makes_the_kept_list_stale(
    network: Network,
) -> None:
    post_url = await network.post()
    await _comment(network, post_url, 1)
    assert "comment 1" in await _page(network, post_url)
    # Given another process (its own connection) approves a comment
    other = Store(network.node.settings.database_url)
    await other.connect()
    try:
        pending = await _comment(network, post_url, 2)
        await network.node.store.update_note(pending.id or 0, status="pending")
        assert "comment 2" not in await _page(network, post_url)
        await other.update_note(pending.id or 0, status="approved")
    finally:
        await other.disconnect()
    # Then this process shows it once its content version is older than FRESH_SECONDS
    # (node/cache/pages.py): the comment list's own version is read with the post row
    await asyncio.sleep(pages.FRESH_SECONDS)
    assert "comment 2" in await _page(network, post_url)


async def test_signed_in_visitors_get_their_own_reply_forms_and_nobody_else_does(
    network: Network,
) -> None:
    post_url = await network.post()
    await _comment(network, post_url, 1)
    async with network.fediverse.client() as anonymous:
        before = (await anonymous.get(post_url, headers={"Accept": "text/html"})).text
        assert "comment 1" in before and "Send reply" not in before
        await add_member(network.node.store, network.node.settings, "ann")
        await sign_in(network.http, "ann")
        signed_in = await _page(network, post_url)
        assert "Send reply" in signed_in and 'name="csrf"' in signed_in
        after = (await anonymous.get(post_url, headers={"Accept": "text/html"})).text
        assert "Send reply" not in after and 'name="csrf"' not in after


async def test_a_second_view_of_an_unchanged_post_does_not_fetch_its_comments(
    network: Network,
) -> None:
    post_url = await network.post()
    for n in range(5):
        await _comment(network, post_url, n)
    store = network.node.store
    counts = []
    for _ in range(2):
        counter = CountingDatabase(store._db)
        store._db = counter
        try:
            assert "comment 4" in await _page(network, post_url)
        finally:
            store._db = counter._inner
        counts.append(counter.count)
    assert counts[1] <= counts[0] - 2  # neither the comments nor their authors


def test_the_cache_keeps_recent_lists_up_to_its_size_and_only_their_version() -> None:
    cache = CommentCache(characters=10)
    cache.put(1, RenderedComments(3, "aaaa", 1))
    cache.put(2, RenderedComments(1, "bbbb", 1))
    assert cache.get(1, 3) is not None  # 1 is now the most recent
    assert cache.get(1, 4) is None  # another version of its comments
    cache.put(3, RenderedComments(1, "cccc", 1))  # over the size: the least recent goes
    assert cache.get(2, 1) is None
    assert cache.get(1, 3) is not None and cache.get(3, 1) is not None
    cache.put(4, RenderedComments(1, "x" * 11, 1))  # bigger than the whole cache: not kept
    assert cache.get(4, 1) is None and cache.get(3, 1) is not None
