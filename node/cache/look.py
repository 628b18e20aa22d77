"""The community's look (name, logo, accent colour, header image: node/content/identity.py) as
this process last read it. Every page shows it, so it is read from the database at most once
per FRESH_SECONDS per process instead of once per page. A change made in this process is seen
at once (it `put`s what it saved); one made by another process (`conode site set`, a second
web process) within FRESH_SECONDS.

When the value is due to be read again, the request that finds it so reads it, and the requests
that arrive during that read use the value read last: after a quiet moment, a burst of requests
makes one query, not one each, and waits for none."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

FRESH_SECONDS = 2.0

T = TypeVar("T")


class Refreshed(Generic[T]):
    """One value and when it was read."""

    def __init__(self, seconds: float = FRESH_SECONDS) -> None:
        self._seconds = seconds
        self._value: T | None = None
        self._read_at = 0.0
        self._reading: asyncio.Future[T] | None = None

    def fresh(self) -> T | None:
        """The value if read within the last `seconds`, else None (read it again)."""
        if self._value is None or time.monotonic() - self._read_at > self._seconds:
            return None
        return self._value

    def last(self) -> T | None:
        """The value as last read, however old (None before the first read)."""
        return self._value

    def put(self, value: T) -> None:
        self._value, self._read_at = value, time.monotonic()

    async def refreshed(self, read: Callable[[], Awaitable[T]]) -> T:
        """The value, read with `read()` if it is not fresh; while a read runs, the value read
        last (the first read is waited for)."""
        value = self.fresh()
        if value is not None:
            return value
        if self._reading is not None:
            return self._value if self._value is not None else await asyncio.shield(self._reading)
        self._reading = asyncio.ensure_future(read())
        try:
            value = await asyncio.shield(self._reading)
        finally:
            self._reading = None
        self.put(value)
        return value
