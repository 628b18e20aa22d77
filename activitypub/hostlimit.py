"""A per-host concurrency limit for outgoing requests, as an httpx transport around another.

A remote server that answers slowly, or a flood of activities that all point at one host, must not
take every connection the node has: at most `limit` requests to one host (scheme, host and port)
are in flight at once; the others wait their turn (inside the caller's own timeout). A slot is
held until the response body is closed, since a streamed body still occupies the connection.
The limit is per process: each web or worker process keeps its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx


@dataclass
class _Slot:
    gate: asyncio.Semaphore
    users: int = 0  # requests waiting or in flight
    active: int = 0  # requests in flight


class _ReleasingStream(httpx.AsyncByteStream):
    """The inner response body; closing it (or failing to read it) frees the host's slot."""

    def __init__(self, inner: httpx.AsyncByteStream, release: _Release) -> None:
        self._inner = inner
        self._release = release

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._inner:
            yield chunk

    async def aclose(self) -> None:
        try:
            await self._inner.aclose()
        finally:
            self._release()


class _Release:
    """Frees one slot exactly once, however many times it is called."""

    def __init__(self, limiter: PerHostLimit, host: str) -> None:
        self._limiter = limiter
        self._host = host
        self._done = False

    def __call__(self) -> None:
        if not self._done:
            self._done = True
            self._limiter._leave(self._host)


class PerHostLimit(httpx.AsyncBaseTransport):
    """Wraps a transport so at most `limit` requests per host are in flight at once."""

    def __init__(self, inner: httpx.AsyncBaseTransport, limit: int) -> None:
        if limit < 1:
            raise ValueError("the per-host limit must be at least 1")
        self._inner = inner
        self._limit = limit
        self._slots: dict[str, _Slot] = {}

    def in_flight(self, host: str) -> int:
        slot = self._slots.get(host)
        return 0 if slot is None else slot.active

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        host = f"{request.url.scheme}://{request.url.netloc.decode('ascii')}"
        slot = self._slots.setdefault(host, _Slot(asyncio.Semaphore(self._limit)))
        slot.users += 1
        release = _Release(self, host)
        acquired = handed_off = False
        try:  # `finally`, so a cancelled or failed request gives its place back
            await slot.gate.acquire()
            acquired = True
            slot.active += 1
            response = await self._inner.handle_async_request(request)
            if not isinstance(response.stream, httpx.AsyncByteStream):
                return response
            handed_off = True  # from here the body's aclose() frees the slot
            return httpx.Response(
                status_code=response.status_code,
                headers=response.headers,
                stream=_ReleasingStream(response.stream, release),
                extensions=response.extensions,
            )
        finally:
            if acquired and not handed_off:
                release()
            elif not acquired:
                slot.users -= 1
                self._forget_if_unused(host)

    def _leave(self, host: str) -> None:
        slot = self._slots[host]
        slot.active -= 1
        slot.gate.release()
        slot.users -= 1
        self._forget_if_unused(host)

    def _forget_if_unused(self, host: str) -> None:
        # Hosts come and go: an idle host's entry is dropped so the table stays small.
        slot = self._slots.get(host)
        if slot is not None and slot.users == 0:
            del self._slots[host]

    async def aclose(self) -> None:
        await self._inner.aclose()
