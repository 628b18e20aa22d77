"""The block list held in memory, so checking a sender costs no query.

Every inbox POST is checked against the blocks before anything else is done with it; as a
query that check was a third of the web process's time under inbox load (compiling the
statement, then the hand-off to the database thread). Instead each process keeps the set of
blocked targets (domains and actor ids) and loads it again when it is older than REFRESH_SECONDS:
a block or unblock made by another process (`conode block add`, a second web process, a linked
node's shared blocks applied by a worker) takes effect here within that time, and one made
through this process at once. The set is small (a large node blocks a few thousand domains)
and one query a second costs nothing next to the requests it saves.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable

REFRESH_SECONDS = 1.0


class BlockList:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._targets: frozenset[str] = frozenset()
        self._fresh_until = float("-inf")
        self._changes = 0
        self._loading = asyncio.Lock()

    def changed(self) -> None:
        """A block was added or removed through this process: load again on the next check."""
        self._changes += 1
        self._fresh_until = float("-inf")

    async def targets(self, load: Callable[[], Awaitable[Iterable[str]]]) -> frozenset[str]:
        """The blocked targets, loaded with `load` when stale (one load at a time)."""
        if self._clock() < self._fresh_until:
            return self._targets
        async with self._loading:
            if self._clock() >= self._fresh_until:  # else another request just loaded it
                started, changes = self._clock(), self._changes
                self._targets = frozenset(await load())
                if changes == self._changes:  # a change made while loading may be missing
                    self._fresh_until = started + REFRESH_SECONDS
        return self._targets
