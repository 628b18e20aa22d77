"""Whole responses for anonymous visitors (the home page, posts' pages, posts' and actors'
ActivityPub JSON), kept by each web process for one version of the site's content.

The version is a row in the database (`content_versions`, migration 0016), bumped by triggers
in the transaction of every write to what those responses show. `VersionReader` remembers it:
a request after a write this process committed reads it again, so this process never serves
what it knows is stale to a request that came after the write on its own; a write by another
process (a second web process, `conode worker`, the CLI) is seen at most FRESH_SECONDS later.
With no write, a kept response costs no query at all.

Under load the node keeps answering from what it has (a cache's grace, as Varnish's grace and
nginx's `proxy_cache_use_stale updating` do): while the version is read again, requests that
arrive meanwhile use the one read last; while a response is rendered for a new version, they
get the copy kept for the version before. Only the request that started the read or the render
waits for it. A signed-in member's page carries their CSRF token and name and is never kept.

View counts on a post's page are not content: a kept page shows the count it was rendered
with plus the views this process has counted since, and is rendered again after MAX_AGE
seconds to pick up what other processes counted.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

CHARACTERS_KEPT = 32_000_000  # ~32 MB of bodies
MAX_AGE = 60.0  # seconds a kept response lives at most (its view count)
# How long another process's write may go unseen: the content version is read again after this
# even when this process wrote nothing (what a proxy's "microcache" would add anyway).
FRESH_SECONDS = 0.5
# While the version is read again, requests that arrive meanwhile are answered with the version
# read last, if it is at most this old (a cache's grace; Varnish's default is 10 s too): in a
# stampede, a read waits for several turns of a busy event loop, and every request would wait
# with it. A request that finds no read under way starts one and waits for it.
GRACE_SECONDS = 10.0


Rendering = asyncio.Future["KeptResponse | None"]


@dataclass(frozen=True)
class KeptResponse:
    version: int
    body: bytes
    status_code: int
    headers: tuple[tuple[str, str], ...]
    etag: str
    kept_at: float
    # A post's page counts a view each time it is served, and shows the count: the one it was
    # rendered with (views_shown) plus what this process has counted since (ViewCounter.counted
    # was views_counted then).
    post_row_id: int | None = None
    views_shown: int = 0
    views_counted: int = 0


def etag_of(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'


def matches(if_none_match: str, etag: str) -> bool:
    """RFC 9110 §13.1.2, weak comparison: any listed tag, W/ or not, or `*`."""
    tags = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
    return "*" in tags or etag in tags


class PageCache:
    """Kept responses by key (path, query, HTML or JSON), least recently used out first."""

    def __init__(
        self, characters: int = CHARACTERS_KEPT, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._budget = characters
        self._kept = 0
        self._clock = clock
        self._entries: OrderedDict[tuple[str, ...], KeptResponse] = OrderedDict()
        self._rendering: dict[tuple[str, ...], tuple[int, Rendering]] = {}

    def now(self) -> float:
        return self._clock()

    def __len__(self) -> int:
        """How many responses are kept."""
        return len(self._entries)

    def get(self, key: tuple[str, ...], version: int) -> KeptResponse | None:
        """The response kept for this version; one kept for another stays (see `earlier`)."""
        entry = self._live(key)
        return entry if entry is not None and entry.version == version else None

    def earlier(self, key: tuple[str, ...]) -> KeptResponse | None:
        """The response kept for an earlier version, served while this version's is rendered
        (a cache's grace, as Varnish and nginx's `proxy_cache_use_stale updating` do): a
        change of one comment then costs the requests that arrive meanwhile no wait."""
        return self._live(key)

    def _live(self, key: tuple[str, ...]) -> KeptResponse | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if self._clock() - entry.kept_at > MAX_AGE:
            self._drop(key)
            return None
        self._entries.move_to_end(key)
        return entry

    def put(self, key: tuple[str, ...], entry: KeptResponse) -> None:
        self._drop(key)
        if len(entry.body) > self._budget:
            return
        self._entries[key] = entry
        self._kept += len(entry.body)
        while self._kept > self._budget:
            _, evicted = self._entries.popitem(last=False)
            self._kept -= len(evicted.body)

    def rendering(self, key: tuple[str, ...], version: int) -> tuple[Rendering, bool]:
        """The render of this response under way in this process (of this version or one
        before it), and whether the caller is the first to ask (it renders, then calls
        `rendered`; the others serve the copy before or wait for it): a post everyone fetches
        at once is rendered once per version at most."""
        running = self._rendering.get(key)
        if running is not None and not running[1].done():
            # One render of a response at a time: while the comments of a post everyone fetches
            # keep changing, a render of each version in turn would have them all compete for
            # the loop; the requests meanwhile get the copy before (`earlier`), and the first
            # request after this render ends renders the version then current.
            return running[1], False
        future: Rendering = asyncio.get_running_loop().create_future()
        self._rendering[key] = (version, future)
        return future, True

    def rendered(
        self,
        key: tuple[str, ...],
        future: Rendering,
        entry: KeptResponse | None,
    ) -> None:
        """The first renderer's outcome: kept (an entry) or not to be shared (None)."""
        if entry is not None:
            self.put(key, entry)
        if self._rendering.get(key, (0, None))[1] is future:
            del self._rendering[key]
        if not future.done():
            future.set_result(entry)

    def _drop(self, key: tuple[str, ...]) -> None:
        old = self._entries.pop(key, None)
        self._kept -= len(old.body) if old else 0


class VersionReader:
    """The current content version. Remembered for FRESH_SECONDS while this process commits
    no write (`writes()` has not moved); otherwise read from the database. While a read runs,
    a request gets the version read last if that is at most GRACE_SECONDS old; with none so
    recent, it waits for a read that began after it arrived (one already running may have
    started before a write the request must see), shared with every request that arrived
    while the one before it ran."""

    def __init__(
        self,
        read: Callable[[], Awaitable[int]],
        writes: Callable[[], int] = lambda: 0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._read = read
        self._writes = writes
        self._clock = clock
        self._reading: asyncio.Task[None] | None = None
        self._queued: asyncio.Future[int] | None = None
        # (version, when its read began, this process's writes then)
        self._known: tuple[int, float, int] | None = None
        self.reads = 0  # queries made, for tests and benchmarks

    async def current(self) -> int:
        known = self._known
        if known is not None:
            age = self._clock() - known[1]
            if known[2] == self._writes() and age < FRESH_SECONDS:
                return known[0]
            if self._reading is not None and age < GRACE_SECONDS:
                return known[0]  # grace: a read is under way, and this was true a moment ago
        loop = asyncio.get_running_loop()
        if self._reading is None:
            answer: asyncio.Future[int] = loop.create_future()
            self._reading = loop.create_task(self._reads(answer))
        else:
            if self._queued is None:
                self._queued = loop.create_future()
            answer = self._queued
        return await asyncio.shield(answer)

    async def _reads(self, answer: asyncio.Future[int] | None) -> None:
        """Read for `answer`, then for the requests that arrived meanwhile, until none did."""
        while answer is not None:
            self.reads += 1
            began, writes = self._clock(), self._writes()
            try:
                version = await self._read()
                answer.set_result(version)
                self._known = (version, began, writes)
            except Exception as error:
                self._known = None
                answer.set_exception(error)
                answer.exception()  # retrieved: a waiter that went away must not log it
            answer, self._queued = self._queued, None
        self._reading = None
