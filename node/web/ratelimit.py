"""Rate limits: CONODE_RATE_LIMIT requests per minute per remote server on the inboxes, and per
client address everywhere else; over the limit the answer is 429 with Retry-After.

The limiter is GCRA (a token bucket kept as one timestamp per key): a full minute's allowance
may arrive at once, then one request per 60/limit seconds. State is in memory, per process:
each web process limits on its own, which is standard for a per-process limiter and needs no
table; a restart forgets it.

Who is charged on an inbox: a request whose signature verified is charged to the signer's
server (node/web/inbox.py records the signer in the request state); any other (unsigned, forged,
refused) to the client address. Before the work starts, a request is refused if the server its
keyId claims is over its limit, or its address is. Since only verified requests are charged to
a server, a forger claiming to be mastodon.social spends its own address's allowance, never
mastodon.social's. Behind a reverse proxy the client address is the one uvicorn takes from
X-Forwarded-For (its --forwarded-allow-ips, 127.0.0.1 by default).
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send

SIGNER_STATE = "verified_signer"  # request.state attribute node/web/inbox.py sets after verifying
MAX_KEYS = 50_000  # past this, keys whose allowance has refilled are forgotten
_KEY_ID_RE = re.compile(r'keyid\s*=\s*"([^"]*)"', re.IGNORECASE)

Key = tuple[str, str]


class RateLimiter:
    """GCRA: `hit()` admits and counts a request or returns seconds to wait; `over()` only looks."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval = 60.0 / per_minute
        self.tolerance = 60.0 - self.interval
        self._clock = clock
        self._tat: dict[Key, float] = {}  # theoretical arrival time of the next request

    def over(self, key: Key) -> float | None:
        now = self._clock()
        wait = max(self._tat.get(key, now), now) - now - self.tolerance
        return wait if wait > 0 else None

    def hit(self, key: Key) -> float | None:
        wait = self.over(key)
        if wait is not None:
            return wait
        now = self._clock()
        self._tat[key] = max(self._tat.get(key, now), now) + self.interval
        if len(self._tat) > MAX_KEYS:
            self._tat = {k: tat for k, tat in self._tat.items() if tat > now}
        return None


def claimed_host(headers: Headers) -> str | None:
    """The host of the keyId a request claims (draft-cavage or RFC 9421), unverified."""
    for name in ("signature", "signature-input", "authorization"):
        match = _KEY_ID_RE.search(headers.get(name, ""))
        if match:
            try:
                return (urlsplit(match[1]).hostname or "").lower() or None
            except ValueError:
                return None
    return None


def _is_inbox(scope: Scope) -> bool:
    return scope["method"] == "POST" and str(scope["path"]).rstrip("/").endswith("/inbox")


def too_many(wait: float) -> PlainTextResponse:
    seconds = max(1, math.ceil(wait))
    return PlainTextResponse(
        f"rate limited: try again in {seconds} s\n", 429, headers={"Retry-After": str(seconds)}
    )


class RateLimit:
    """ASGI middleware applying one RateLimiter (None: no limit, CONODE_RATE_LIMIT=0); the
    node's page stack and its inbox short cut share it."""

    def __init__(self, app: ASGIApp, *, limiter: RateLimiter | None) -> None:
        self.app = app
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        limiter = self.limiter
        if scope["type"] != "http" or limiter is None or scope["path"].startswith("/static/"):
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        address: Key = ("address", client[0] if client else "")
        if not _is_inbox(scope):
            wait = limiter.hit(address)
            await (too_many(wait) if wait else self.app)(scope, receive, send)
            return
        host = claimed_host(Headers(scope=scope))
        wait = (limiter.over(("server", host)) if host else None) or limiter.over(address)
        if wait:
            await too_many(wait)(scope, receive, send)
            return
        await self.app(scope, receive, send)
        signer = scope.get("state", {}).get(SIGNER_STATE)
        limiter.hit(("server", urlsplit(signer).hostname or "") if signer else address)
