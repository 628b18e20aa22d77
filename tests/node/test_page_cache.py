"""Whole pages and ActivityPub documents kept for anonymous visitors (node/cache/pages.py,
node/web/page_cache.py): good for one version of the site's content, kept in the database and
bumped by triggers, so a change made anywhere (a second `conode serve`, a `conode` command) is
shown at once by every process; ETag and If-None-Match for proxies and other servers."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

import httpx

from node.cache.look import Refreshed
from node.cache.pages import GRACE_SECONDS, KeptResponse, PageCache, VersionReader, matches
from node.storage import Store

from ..conftest import free_port
from ..processes import ServedNode, initialised_node, printed_on_failure
from .conftest import Network
from .test_page_queries import ACTIVITY_JSON, approved_comment

HOME = "https://conode.example/"


async def test_documents_carry_an_etag_and_answer_a_matching_if_none_match_with_304(
    network: Network,
) -> None:
    post_url = await network.post("Picnic on Saturday")
    for accept in (ACTIVITY_JSON, "text/html"):
        first = await network.http.get(post_url, headers={"Accept": accept})
        etag = first.headers["etag"]
        assert first.headers["cache-control"] == "public, no-cache"
        # a page: Cookie from the session middleware, its words follow Accept-Language; a
        # document reads no session, so it varies by Accept alone
        html = accept == "text/html"
        assert first.headers["vary"] == ("Accept, Accept-Language, Cookie" if html else "Accept")
        again = await network.http.get(post_url, headers={"Accept": accept})
        assert again.headers["etag"] == etag and again.content == first.content
        assert again.headers["content-type"] == first.headers["content-type"]
        unchanged = await network.http.get(
            post_url, headers={"Accept": accept, "If-None-Match": f'"other", W/{etag}'}
        )
        assert unchanged.status_code == 304 and unchanged.content == b""
        assert unchanged.headers["etag"] == etag
    json_etag = (await network.http.get(post_url, headers={"Accept": ACTIVITY_JSON})).headers[
        "etag"
    ]
    await network.node.store.update_post(
        (await network.node.store.post(post_url.rsplit("/", 1)[1])).id,  # type: ignore[union-attr]
        title="Picnic on Sunday",
    )
    changed = await network.http.get(
        post_url, headers={"Accept": ACTIVITY_JSON, "If-None-Match": json_etag}
    )
    assert changed.status_code == 200 and "Picnic on Sunday" in changed.text
    assert changed.headers["etag"] != json_etag


async def test_a_page_view_counts_when_the_page_is_served_from_what_was_kept(
    network: Network,
) -> None:
    post_url = await network.post("Picnic on Saturday")
    browser = {"Accept": "text/html", "User-Agent": "Mozilla/5.0 (X11; Linux x86_64)"}
    for _ in range(3):
        assert (await network.http.get(post_url, headers=browser)).status_code == 200
    post = await network.node.store.post(post_url.rsplit("/", 1)[1])
    assert post is not None and network.node.views.pending(post.id or 0) == 3


async def test_a_write_made_while_a_version_read_runs_is_seen_by_later_requests() -> None:
    """Requests that arrive during a read share the next read, never the running one."""
    version = 1
    started = asyncio.Event()
    release = asyncio.Event()

    async def read() -> int:
        seen = version
        started.set()
        await release.wait()
        return seen

    reader = VersionReader(read)
    first = asyncio.create_task(reader.current())
    await started.wait()
    version = 2  # a write commits while the first read is on its way
    later = [asyncio.create_task(reader.current()) for _ in range(10)]
    await asyncio.sleep(0)
    release.set()
    assert await first == 1
    assert await asyncio.gather(*later) == [2] * 10
    assert reader.reads == 2  # eleven requests, two queries


async def test_a_failed_version_read_fails_its_requests_and_the_next_one_reads_again() -> None:
    attempts = 0

    async def read() -> int:
        nonlocal attempts
        attempts += 1
        if attempts == 1:
            raise OSError("database gone")
        return 7

    reader = VersionReader(read)
    try:
        await reader.current()
    except OSError:
        pass
    else:
        raise AssertionError("the failure was not passed on")
    assert await reader.current() == 7


def test_kept_responses_are_good_for_one_version_and_up_to_a_size() -> None:
    now = [0.0]
    cache = PageCache(characters=10, clock=lambda: now[0])

    def entry(version: int, body: bytes) -> KeptResponse:
        return KeptResponse(version, body, 200, (), '"e"', now[0])

    cache.put(("html", "/a", ""), entry(3, b"aaaa"))
    cache.put(("html", "/b", ""), entry(3, b"bbbb"))
    assert cache.get(("html", "/a", ""), 3) is not None
    assert cache.get(("html", "/a", ""), 4) is None  # another version: gone
    cache.put(("html", "/a", ""), entry(3, b"aaaa"))
    cache.put(("html", "/c", ""), entry(3, b"cccc"))  # over the size: the least recent goes
    assert cache.get(("html", "/b", ""), 3) is None
    now[0] = 61.0  # older than MAX_AGE (a view count shown that long ago)
    assert cache.get(("html", "/c", ""), 3) is None
    assert matches('W/"x", "e"', '"e"') and matches("*", '"e"') and not matches("", '"e"')


# --- two real `conode serve` processes on one database --------------------------------------


def _second_process(first: ServedNode, directory: Path) -> ServedNode:
    """Another `conode serve` of the same node: its database, keys and URL, another port."""
    directory.mkdir()
    return ServedNode("B", f"http://127.0.0.1:{free_port()}", dict(first.env), directory)


def _add_pending_comment(database_url: str, post_url: str) -> int:
    async def add() -> int:
        store = Store(database_url)
        await store.connect()
        try:
            post = await store.post(post_url.rsplit("/", 1)[1])
            assert post is not None
            note = dataclasses.replace(
                approved_comment(post.id, post_url, "https://spam.example/users/eve", 1),
                status="pending",
                content_html="<p>Eve was here</p>",
            )
            assert await store.insert_note(note)
            row = await store.note(note.object_id)
            assert row is not None and row.id is not None
            return row.id
        finally:
            await store.disconnect()

    return asyncio.run(add())


def test_a_change_is_shown_at_once_by_another_process(tmp_path: Path) -> None:
    """Pages kept by process B are replaced the moment a command changes what they show:
    an edited post, a newly approved comment, a block that takes a comment down."""
    (tmp_path / "a" / "data").mkdir(parents=True)
    with initialised_node(tmp_path / "a", "ben") as first:
        post_url = first.ok(
            "post", "create", "ben", "--kind", "blog", "--title", "Picnic", "--body", "Bring food."
        ).strip()
        local = post_url.replace(first.env["CONODE_URL"], "")
        second = _second_process(first, tmp_path / "b")
        try:
            first.start()
            second.start()
            with printed_on_failure(first, second):

                def shown(path: str, activity_json: bool = False) -> str:
                    response = second.get(path, activity_json=activity_json)
                    assert response.status_code == 200, response.text[:300]
                    return response.text

                for _ in range(2):  # the second from what B kept
                    assert "Picnic" in shown(local) and "Picnic" in shown("/")
                    assert '"Picnic"' in shown(local, activity_json=True)

                first.ok("post", "edit", post_url, "--title", "Picnic moved to Sunday")
                assert "Picnic moved to Sunday" in shown(local)
                assert "Picnic moved to Sunday" in shown("/")
                assert "Picnic moved to Sunday" in shown(local, activity_json=True)

                note_id = _add_pending_comment(first.env["CONODE_DATABASE_URL"], post_url)
                assert "Eve was here" not in shown(local)
                first.ok("comments", "approve", str(note_id))
                assert "Eve was here" in shown(local)

                first.ok("block", "add", "spam.example", "--reason", "spam")
                assert "Eve was here" not in shown(local)
                via_a = httpx.get(first.url + local, headers={"Accept": "text/html"}, timeout=10)
                assert "Eve was here" not in via_a.text
        finally:
            second.stop()


class GatedRead:
    """A version read that returns `version` as it was when the read began, once released."""

    def __init__(self, version: int) -> None:
        self.version = version
        self.started = asyncio.Event()
        self.release = asyncio.Event()

    async def __call__(self) -> int:
        seen = self.version
        self.started.set()
        await self.release.wait()
        return seen

    def hold(self) -> None:
        self.started.clear()
        self.release.clear()


async def test_while_the_version_is_read_again_requests_get_the_one_read_last() -> None:
    """A cache's grace: during a read, a request gets the version read a moment ago at once;
    the request that started the read, and the next one after it, get the new one."""
    read, writes = GatedRead(1), [0]
    reader = VersionReader(read, lambda: writes[0], clock=lambda: 0.0)
    read.release.set()
    assert await reader.current() == 1
    read.hold()
    read.version, writes[0] = 2, 1  # this process writes: the version is read again
    first = asyncio.create_task(reader.current())
    await read.started.wait()
    meanwhile = await asyncio.wait_for(asyncio.gather(*(reader.current() for _ in range(5))), 1)
    assert meanwhile == [1] * 5
    read.release.set()
    assert await first == 2
    assert await reader.current() == 2
    assert reader.reads == 2


async def test_a_version_read_long_ago_is_not_served_while_reading_again() -> None:
    read, clock = GatedRead(1), [0.0]
    reader = VersionReader(read, clock=lambda: clock[0])
    read.release.set()
    assert await reader.current() == 1
    read.hold()
    read.version = 2
    clock[0] = GRACE_SECONDS + 1  # too old to answer with, even while a read runs
    first = asyncio.create_task(reader.current())
    await read.started.wait()
    later = asyncio.create_task(reader.current())
    await asyncio.sleep(0.01)
    assert not later.done()
    read.release.set()
    assert (await first, await later) == (2, 2)


def test_one_render_of_a_response_at_a_time_and_the_copy_before_meanwhile() -> None:
    async def scenario() -> None:
        cache = PageCache()
        key = ("html", "/posts/a", "", "en", "look")
        cache.put(key, KeptResponse(3, b"three", 200, (), '"3"', cache.now()))
        rendering, first = cache.rendering(key, 4)
        assert first and cache.get(key, 4) is None
        before = cache.earlier(key)
        assert before is not None and before.body == b"three"
        # version 5 arrives while 4 renders: no second render, the copy before meanwhile
        again, second_first = cache.rendering(key, 5)
        assert again is rendering and not second_first
        four = KeptResponse(4, b"four", 200, (), '"4"', cache.now())
        cache.rendered(key, rendering, four)
        assert cache.get(key, 4) is four and cache.get(key, 5) is None
        _, after = cache.rendering(key, 5)  # the next request renders the version then current
        assert after

    asyncio.run(scenario())


async def test_the_look_is_read_by_one_request_at_a_time() -> None:
    """After a quiet moment, a burst of requests makes one query for the look, and only the
    first waits for it; the first read of all is waited for by everyone."""
    reads = 0
    release = asyncio.Event()

    async def read() -> str:
        nonlocal reads
        reads += 1
        await release.wait()
        return f"look {reads}"

    look: Refreshed[str] = Refreshed(seconds=0.0)
    first = [asyncio.create_task(look.refreshed(read)) for _ in range(5)]
    await asyncio.sleep(0.01)
    assert reads == 1 and not any(task.done() for task in first)
    release.set()
    assert [await task for task in first] == ["look 1"] * 5
    release.clear()
    reader = asyncio.create_task(look.refreshed(read))  # not fresh any more: read again
    await asyncio.sleep(0.01)
    meanwhile = await asyncio.wait_for(asyncio.gather(*(look.refreshed(read) for _ in range(5))), 1)
    assert meanwhile == ["look 1"] * 5 and reads == 2
    release.set()
    assert await reader == "look 2"
