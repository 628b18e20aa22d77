"""The community's look (name, logo, accent colour, header image: node/content/identity.py) as
this process last read it. Every page shows it, so it is read from the database at most once
per FRESH_SECONDS per process instead of once per page. A change made in this process is seen
at once (it `put`s what it saved); one made by another process (`conode site set`, a second
web process) within FRESH_SECONDS."""

from __future__ import annotations

import time
from typing import Generic, TypeVar

FRESH_SECONDS = 2.0

T = TypeVar("T")


class Refreshed(Generic[T]):
    """One value and when it was read."""

    def __init__(self, seconds: float = FRESH_SECONDS) -> None:
        self._seconds = seconds
        self._value: T | None = None
        self._read_at = 0.0

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
