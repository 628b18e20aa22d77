"""Signatures made on threads beside the event loop, handed back a batch at a time.

pyca/cryptography signs without the GIL, so a thread can sign while the loop sends. Handing each
signature over through `run_in_executor` wakes the loop once per signature (a concurrent Future
chained to an asyncio one, a self-pipe write); on a machine signing ~3,500/s that cost more than
the thread saved (bench/fanout.py). Here a thread takes every request waiting, signs them in
turn, and wakes each loop once for the batch.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

MAX_BATCH = 16  # a batch is answered when its last signature is made: keep the wait short

_Request = tuple[asyncio.AbstractEventLoop, "asyncio.Future[Any]", Callable[[], Any]]
_Outcome = tuple["asyncio.Future[Any]", Any, BaseException | None]


class SigningThreads:
    """`count` daemon threads that run calls given to `run` (started on first use)."""

    def __init__(self, count: int, name: str = "conode-signing") -> None:
        self._count = count
        self._name = name
        self._requests: queue.SimpleQueue[_Request | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []

    def run(self, call: Callable[[], T]) -> asyncio.Future[T]:
        """`call()` on a signing thread; its result (or exception) on the running loop."""
        if not self._threads:
            self._start()
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._requests.put((loop, future, call))
        return future

    def close(self) -> None:
        for _ in self._threads:
            self._requests.put(None)
        for thread in self._threads:
            thread.join()
        self._threads = []

    def _start(self) -> None:
        for _ in range(self._count):
            thread = threading.Thread(target=self._work, name=self._name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def _work(self) -> None:
        while (first := self._requests.get()) is not None:
            batch = [first]
            while len(batch) < MAX_BATCH:
                try:
                    request = self._requests.get_nowait()
                except queue.Empty:
                    break
                if request is None:  # close(): answer what was taken, then stop
                    _answer(batch)
                    return
                batch.append(request)
            _answer(batch)


def _answer(batch: list[_Request]) -> None:
    outcomes: dict[asyncio.AbstractEventLoop, list[_Outcome]] = {}
    for loop, future, call in batch:
        try:
            outcome: _Outcome = (future, call(), None)
        except BaseException as exc:  # as in concurrent.futures: to the caller; the thread goes on
            outcome = (future, None, exc)
        outcomes.setdefault(loop, []).append(outcome)
    for loop, answered in outcomes.items():
        with contextlib.suppress(RuntimeError):  # the loop closed while they were made
            loop.call_soon_threadsafe(_settle, answered)


def _settle(answered: list[_Outcome]) -> None:
    for future, result, error in answered:
        if future.cancelled():
            continue
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)
