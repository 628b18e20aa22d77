"""Remote public keys held in memory for a short while, and key fetches that failed.

Every signed inbox POST needs its signer's key. The database caches actors for days, but reading
that row (and parsing its PEM) on every request costs more than verifying the signature; so
each process keeps the keys it verified with for KEEP. A key that fails a verification is
re-fetched as before (node/federation/remote.py), which also replaces it here.

A key fetch that failed is not tried again for FAILED_KEEP: a flood of requests signed with one
unknown or unreachable key would otherwise cost one outgoing fetch each. The negative entry is
per key id, never per host, so nobody can make a whole server's keys fail by naming a bogus key
on it.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from activitypub.keys import PublicKey

KEEP = 300.0  # seconds
FAILED_KEEP = 60.0
MAX_ENTRIES = 10_000


class KeyCache:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._keys: dict[str, tuple[float, PublicKey]] = {}
        self._failed: dict[str, float] = {}

    def get(self, key_id: str) -> PublicKey | None:
        entry = self._keys.get(key_id)
        if entry is None or entry[0] < self._clock():
            self._keys.pop(key_id, None)
            return None
        return entry[1]

    def put(self, key: PublicKey) -> None:
        if len(self._keys) >= MAX_ENTRIES:
            self._keys.clear()  # crude, and rare: a full cache is refilled from the database
        self._keys[key.key_id] = (self._clock() + KEEP, key)
        self._failed.pop(key.key_id, None)

    def forget(self, key_id: str) -> None:
        self._keys.pop(key_id, None)

    def forget_owner(self, owner: str) -> None:
        """Drop every key of `owner` (an actor that deleted itself); other processes keep
        theirs until KEEP runs out."""
        for key_id in [k for k, (_, key) in self._keys.items() if key.owner == owner]:
            del self._keys[key_id]

    def failed(self, key_id: str) -> None:
        if len(self._failed) >= MAX_ENTRIES:
            self._failed.clear()
        self._failed[key_id] = self._clock() + FAILED_KEEP
        self._keys.pop(key_id, None)

    def recently_failed(self, key_id: str) -> bool:
        until = self._failed.get(key_id)
        if until is None:
            return False
        if until < self._clock():
            del self._failed[key_id]
            return False
        return True
