"""A long-running worker's delivery passes (delivery.Passes): each pass is sent while the one
before it is recorded, and a worker killed between sending a pass and recording it sends again
exactly the rows it had sent and not recorded. Real HTTP: the in-process sink for the overlap,
real `conode worker` processes and a uvicorn sink for the kill."""

from __future__ import annotations

import asyncio
import signal
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from starlette.types import Receive, Scope, Send

from activitypub.client import FetchPolicy
from activitypub.keys import PublicKey
from node.federation import delivery
from node.settings import Settings
from node.storage import Store, is_sqlite
from tests.conftest import free_port
from tests.node.test_delivery import (
    BEN_ID,
    _open_node,
    _queue,
    _resolve,
    _start_worker,
    _until,
)
from tests.sink import InboxSink, serving


async def _recorded(store: Store, activity_id: str) -> set[str]:
    """Inboxes whose last attempt's outcome is stored (a held row is pending and leased; a row
    never claimed has no attempt)."""
    return {
        row["inbox_url"]
        for row in await store.deliveries_of(activity_id)
        if row["attempts"] and (row["status"] != "pending" or row["locked_until"] is None)
    }


class Witness:
    """The sink, noting at each arrival which rows' outcomes the database holds by then."""

    def __init__(self, sink: InboxSink, store: Store) -> None:
        self.sink, self.store = sink, store
        self.activity_id = ""
        self.seen: list[tuple[str, set[str]]] = []  # (inbox reached, inboxes recorded then)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            recorded = await _recorded(self.store, self.activity_id)
            self.seen.append((f"https://{_host(scope)}{scope['path']}", recorded))
        await self.sink(scope, receive, send)


def _host(scope: Scope) -> str:
    return dict(scope["headers"])[b"host"].decode()


async def test_a_pass_is_sent_while_the_pass_before_it_is_recorded(
    settings: Settings, store: Store, sink: InboxSink
) -> None:
    # Given 30 deliveries to 30 hosts that answer 503 (recording them is a statement or two
    # each: their retries and the hosts' failures), then 30 to a host that takes them
    failing = [f"https://h{n}.example/inbox" for n in range(30)]
    taking = [f"https://a.example/users/u{n}/inbox" for n in range(30)]
    for url in failing:
        sink.answer(url, 503)
    witness = Witness(sink, store)
    transport = httpx.ASGITransport(app=witness)
    async with _open_node(settings, store, transport, FetchPolicy(resolver=_resolve)) as node:
        witness.activity_id = await _queue(store, *failing, *taking)
        passes = delivery.Passes(node, limit=30)
        # When the first pass is sent
        assert await passes.run() == 30
        # Then its outcomes are held, its rows still leased
        assert await _recorded(store, witness.activity_id) == set()
        # And when the next pass runs, it goes out before the first pass is recorded
        assert await passes.run() == 30
        assert await _recorded(store, witness.activity_id) == set(failing)
        # And once nothing is due, the last pass is recorded too
        assert await passes.run() == 0
    arrivals = dict(witness.seen)
    assert arrivals[taking[0]] == set()
    assert await _recorded(store, witness.activity_id) == set(failing + taking)
    assert await store.count_deliveries("delivered") == 30
    assert await store.count_deliveries("pending") == 30  # each waits for its retry
    assert {r.signer for r in sink.received} == {BEN_ID}
    assert len(await store.log_entries(direction="delivery")) == 60


async def test_a_pass_is_recorded_before_the_next_claim_once_half_its_lease_is_gone(
    settings: Settings, store: Store, sink: InboxSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A claim made after the held rows' lease ended would take them back and send them twice."""
    monkeypatch.setenv("CONODE_DELIVERY_LEASE_SECONDS", "0.4")
    urls = [f"https://a.example/users/u{n}/inbox" for n in range(4)]
    async with _open_node(
        settings, store, httpx.ASGITransport(app=sink), FetchPolicy(resolver=_resolve)
    ) as node:
        await _queue(store, *urls)
        passes = delivery.Passes(node, limit=2)
        assert await passes.run() == 2
        await asyncio.sleep(0.5)  # the held rows' lease is over
        assert await passes.run() == 2
        assert await passes.run() == 0
    assert sorted(f"https://{r.host}{r.path}" for r in sink.received) == sorted(urls)
    assert await store.count_deliveries("delivered") == 4


async def test_the_next_pass_is_claimed_while_one_is_sent_and_flush_sends_it(
    settings: Settings, store: Store, sink: InboxSink
) -> None:
    # Given nine deliveries, worked in passes of three
    urls = [f"https://h{n}.example/inbox" for n in range(9)]

    async def leased_unsent() -> set[str]:
        reached = {f"https://{r.host}{r.path}" for r in sink.received}
        return {
            row["inbox_url"]
            for row in await store.deliveries_of(activity_id)
            if row["locked_until"] is not None and row["inbox_url"] not in reached
        }

    async with _open_node(
        settings, store, httpx.ASGITransport(app=sink), FetchPolicy(resolver=_resolve)
    ) as node:
        activity_id = await _queue(store, *urls)
        passes = delivery.Passes(node, limit=3)
        # When a pass is sent, the next three are claimed (leased, their attempt counted)
        assert await passes.run() == 3
        assert await leased_unsent() == set(urls[3:6])
        # and the next run sends them, claiming the three after
        assert await passes.run() == 3
        assert {f"https://{r.host}{r.path}" for r in sink.received} == set(urls[:6])
        assert await leased_unsent() == set(urls[6:])
        # Then flush() sends the pass claimed ahead and records everything
        await passes.flush()
    assert sorted(f"https://{r.host}{r.path}" for r in sink.received) == sorted(urls)
    rows = await store.deliveries_of(activity_id)
    assert [(row["status"], row["attempts"], row["locked_until"]) for row in rows] == [
        ("delivered", 1, None)
    ] * 9


# --- killed between sending and recording -----------------------------------------------------


@asynccontextmanager
async def _writes_held(store: Store, database_url: str) -> AsyncIterator[None]:
    """Another connection holds what recording a pass needs: on SQLite the write lock (so the
    worker's next write waits too), on PostgreSQL the delivery log (claims go on)."""
    taken, release = asyncio.Event(), asyncio.Event()

    async def hold() -> None:
        async with store.transaction():
            if not is_sqlite(database_url):
                await store._db.execute("LOCK TABLE activity_log IN EXCLUSIVE MODE")
            taken.set()
            await release.wait()

    task = asyncio.create_task(hold())
    await asyncio.wait_for(taken.wait(), timeout=30)
    try:
        yield
    finally:
        release.set()
        await task


@asynccontextmanager
async def _reaped() -> AsyncIterator[list[asyncio.subprocess.Process]]:
    """The worker processes a test starts: any still running when it ends (an assertion failed
    on the way) is killed, not left working the next test's database."""
    started: list[asyncio.subprocess.Process] = []
    try:
        yield started
    finally:
        for process in started:
            if process.returncode is None:
                process.kill()
                await process.wait()


async def _settled(probe: Callable[[], Awaitable[int]], *, quiet: float, timeout: float) -> int:
    """probe()'s value once it has not changed for `quiet` seconds."""
    deadline = asyncio.get_running_loop().time() + timeout
    value, since = await probe(), asyncio.get_running_loop().time()
    while asyncio.get_running_loop().time() - since < quiet:
        assert asyncio.get_running_loop().time() < deadline, "it never settled"
        await asyncio.sleep(0.05)
        now = await probe()
        if now != value:
            value, since = now, asyncio.get_running_loop().time()
    return value


async def test_a_worker_killed_between_sending_and_recording_sends_those_rows_again_only(
    settings: Settings, store: Store, ben_key: PublicKey, tmp_path: Path
) -> None:
    # Given one activity queued to 1,200 inboxes of a real HTTP server (passes of 256)
    sink, port = InboxSink([ben_key]), free_port()
    urls = [f"http://127.0.0.1:{port}/inbox/{n}" for n in range(1200)]
    log = tmp_path / "worker.log"

    async def arrived() -> int:
        return len(sink.received)

    async def recorded_so_far() -> int:
        return len(await _recorded(store, activity_id))

    async with serving(sink, port), _reaped() as workers:
        activity_id = await _queue(store, *urls)
        first = await _start_worker(settings, log)
        workers.append(first)
        # When recording is held up once the first pass is recorded
        await _until(recorded_so_far, 256, timeout=60)
        async with _writes_held(store, settings.database_url):
            # the worker goes on as far as it can: it sends, and cannot record
            await _settled(arrived, quiet=1.0, timeout=60)
            sent = {f"http://127.0.0.1:{port}{r.path}" for r in sink.received}
            recorded = await _recorded(store, activity_id)
            # And the worker is SIGKILLed there
            first.send_signal(signal.SIGKILL)
            await first.wait()
        # And a new worker is started, then stopped once everything is delivered
        second = await _start_worker(settings, log)
        workers.append(second)
        await _until(lambda: store.count_deliveries("delivered"), len(urls), timeout=60)
        second.send_signal(signal.SIGTERM)
        exit_status = await asyncio.wait_for(second.wait(), timeout=15)
    per_inbox = Counter(f"http://127.0.0.1:{port}{r.path}" for r in sink.received)
    again = {url for url, count in per_inbox.items() if count > 1}
    print(
        f"\nkilled holding {len(sent - recorded)} rows sent and not recorded "
        f"({len(recorded)} recorded); {len(again)} inboxes reached twice"
    )
    # Then the kill came after a pass was recorded, and after another was sent and before it
    # was recorded
    assert len(recorded) >= 256 and recorded < sent
    assert len(sent - recorded) >= 256 and len(sent) < len(urls)
    # And every inbox got the activity; exactly the rows sent and not recorded came again
    assert set(per_inbox) == set(urls), log.read_text()[-3000:]
    assert again == sent - recorded
    assert max(per_inbox.values()) == 2
    assert {(r.activity_id, r.signer) for r in sink.received} == {(activity_id, BEN_ID)}
    assert exit_status == 0, log.read_text()[-3000:]
