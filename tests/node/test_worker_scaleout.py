"""Scale-out: two `conode worker` processes share one PostgreSQL queue of 1,000 deliveries to a
real HTTP sink on loopback; one is SIGKILLed mid-run. Every delivery is done, no row is worked
by two live workers at once (FOR UPDATE SKIP LOCKED), and the only repeats are rows the killed
worker held leased (deliveries.claimed_by names the holder)."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
from collections import Counter
from pathlib import Path

import pytest

from activitypub.keys import PublicKey
from node.federation import actors
from node.settings import Settings
from node.storage import Store, utcnow
from tests.conftest import PG_ENV, free_port
from tests.node.test_delivery import BEN_ID, _queue, _start_worker, _until
from tests.sink import InboxSink, serving

DELIVERIES = 1000

pytestmark = pytest.mark.skipif(
    not os.environ.get(PG_ENV),
    reason="several worker processes sharing one queue is the PostgreSQL deployment (FOR UPDATE "
    "SKIP LOCKED); SQLite runs one in-process worker. Runs in CI's PostgreSQL pass.",
)


def _worker_name(process: asyncio.subprocess.Process) -> str:
    return f"{socket.gethostname()}:{process.pid}"


async def _claimants(store: Store, activity_id: str) -> set[str]:
    return {row["claimed_by"] for row in await store.deliveries_of(activity_id)} - {None}


async def _held_by(store: Store, activity_id: str, worker: str) -> set[str]:
    """Inboxes whose rows `worker` holds leased, outcome not recorded."""
    now = utcnow()
    return {
        row["inbox_url"]
        for row in await store.deliveries_of(activity_id)
        if row["status"] == "pending"
        and row["claimed_by"] == worker
        and row["locked_until"] is not None
        and row["locked_until"] > now
    }


async def test_two_workers_share_the_queue_and_a_killed_one_repeats_only_what_it_held(
    settings: Settings, store: Store, tmp_path: Path
) -> None:
    row = await store.local_actor("ben")
    assert row is not None
    key: PublicKey = actors.public_key(actors.local_actor(settings, row))
    # Given 1,000 deliveries queued to a real HTTP server that answers each after 0.1 s
    sink = InboxSink([key], delay=0.1)
    port = free_port()
    urls = [f"http://127.0.0.1:{port}/inbox/{n}" for n in range(DELIVERIES)]
    log = tmp_path / "workers.log"

    async def both_claiming() -> int:
        return len(await _claimants(store, activity_id))

    async def arrived() -> int:
        return len(sink.received)

    async def delivered() -> int:
        return await store.count_deliveries("delivered")

    async with serving(sink, port):
        activity_id = await _queue(store, *urls)
        # When two `conode worker` processes work it, and one is SIGKILLed once both have
        # claimed rows and a quarter has arrived
        first = await _start_worker(settings, log)
        second = await _start_worker(settings, log)
        await _until(both_claiming, 2, timeout=60)
        await _until(arrived, DELIVERIES // 4, timeout=60)
        first.send_signal(signal.SIGKILL)
        await first.wait()
        held = await _held_by(store, activity_id, _worker_name(first))
        before_kill = [r.path for r in sink.received]
        # Then the survivor finishes everything, the killed worker's leases once they expire
        await _until(delivered, DELIVERIES, timeout=120)
        second.send_signal(signal.SIGTERM)
        exit_status = await asyncio.wait_for(second.wait(), timeout=15)
    per_inbox = Counter(f"http://127.0.0.1:{port}{r.path}" for r in sink.received)
    repeated = {url for url, count in per_inbox.items() if count > 1}
    print(
        f"\nscale-out: {len(before_kill)} requests before the kill, {len(held)} rows held by "
        f"the killed worker, {len(repeated)} inboxes reached twice, {len(sink.received)} in all"
    )
    # Every inbox got the activity, signed by ben, and every row is recorded delivered
    assert set(per_inbox) == set(urls), log.read_text()[-3000:]
    assert {(r.activity_id, r.signer) for r in sink.received} == {(activity_id, BEN_ID)}
    assert await store.count_deliveries("delivered") == DELIVERIES
    # While both lived, no inbox was sent to twice: no row was claimed by both
    assert len(before_kill) == len(set(before_kill))
    # Afterwards, only rows the killed worker held came again, and each at most twice
    assert repeated <= held
    assert max(per_inbox.values()) <= 2
    # The survivor did its share before the kill too, and stopped cleanly when told
    assert _worker_name(second) in await _claimants(store, activity_id)
    assert exit_status == 0, log.read_text()[-3000:]
