"""Whole responses for anonymous visitors (the home page, posts' pages, posts' and actors'
ActivityPub JSON), kept by each web process for one version of the site's content.

The version is a row in the database (`content_versions`, migration 0016), bumped by triggers
in the transaction of every write to what those responses show. `VersionReader` remembers it:
a request after a write this process committed reads it again (one query, shared by the
requests that arrive while it runs), so this process never serves what it knows is stale; a
write by another process (a second web process, `conode worker`, the CLI) is seen at most
FRESH_SECONDS later. With no write, a kept response costs no query at all. A signed-in
member's page carries their CSRF token and name and is never kept.

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

    def get(self, key: tuple[str, ...], version: int) -> KeptResponse | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry.version != version or self._clock() - entry.kept_at > MAX_AGE:
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
        """The render of this response for this version under way in this process, and
        whether the caller is the first to ask (it renders, then calls `rendered`; the others
        wait for it): a post everyone fetches at once is rendered once per version."""
        running = self._rendering.get(key)
        if running is not None and running[0] == version and not running[1].done():
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
    no write (`writes()` has not moved); otherwise read from the database and shared: a
    request waits for a read that began after it arrived (one already running may have started
    before a write the request must see), so under load one query answers every request that
    arrived while the one before it ran."""

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
        if (
            known is not None
            and known[2] == self._writes()
            and self._clock() - known[1] < FRESH_SECONDS
        ):
            return known[0]
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
