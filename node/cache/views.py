"""Which page loads count as a view: a GET for the HTML page from something that looks like a
person's browser. Nothing about the viewer is kept; the count is a bare number per post.

Crawlers and fediverse servers say who they are in User-Agent, usually with a contact URL
("Googlebot/2.1 (+http://www.google.com/bot.html)", Mastodon's "http.rb/… (Mastodon/4.3;
+https://host/)"); link previews and command-line tools likewise name themselves.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Callable

from starlette.requests import Request

_BOT = re.compile(
    r"bot|crawl|spider|slurp|preview|fetch|scan|monitor|http|curl|wget|python|java|go-http|"
    r"ruby|perl|php|node-fetch|axios|headless|lighthouse|mastodon|pleroma|akkoma|misskey|"
    r"gotosocial|lemmy|peertube|friendica|bridgy",
    re.IGNORECASE,
)


def looks_like_a_person(user_agent: str) -> bool:
    return user_agent.startswith("Mozilla/") and _BOT.search(user_agent) is None


def counts_as_view(request: Request) -> bool:
    """Only real GETs: Starlette answers HEAD with the GET endpoint, which must not count."""
    return request.method == "GET" and looks_like_a_person(request.headers.get("user-agent", ""))


FLUSH_EVERY = 5.0  # seconds a process keeps counted views before writing them


class ViewCounter:
    """Views counted by this process and not yet written. A write per page view would put
    every browser GET in the queue for SQLite's single writer; instead each process adds its
    counts to the stored ones in one statement every FLUSH_EVERY seconds and when it stops
    (node/context.py), so several processes' counts add up."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._pending: Counter[int] = Counter()
        self._counted: Counter[int] = Counter()  # since the process started, never taken
        self._taken_at = clock()

    def add(self, post_id: int) -> None:
        self._pending[post_id] += 1
        self._counted[post_id] += 1

    def counted(self, post_id: int) -> int:
        """Views this process has counted since it started (a kept page adds those counted
        after it was rendered to the count it shows: node/web/page_cache.py)."""
        return self._counted[post_id]

    def pending(self, post_id: int) -> int:
        return self._pending[post_id]

    def due(self) -> bool:
        return bool(self._pending) and self._clock() - self._taken_at >= FLUSH_EVERY

    def take(self) -> dict[int, int]:
        """The counts to write, forgotten here (a failed write loses them, never doubles them)."""
        taken, self._pending, self._taken_at = dict(self._pending), Counter(), self._clock()
        return taken
