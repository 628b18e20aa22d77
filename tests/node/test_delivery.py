"""Outgoing delivery: the queue, the retry policy and the worker, against real HTTP inboxes.

Fast tests reach tests/sink.py through httpx.ASGITransport and step time by passing `now` to
run_once(); the kill test runs real `conode worker` processes against a real uvicorn sink.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import os
import signal
import sys
import threading
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from activitypub.client import FetchPolicy, make_client
from activitypub.keys import PublicKey
from activitypub.vocab import Document
from node import worker
from node.context import Node, open_node
from node.federation import delivery, retry_policy
from node.ops import vault
from node.settings import Settings, SettingsError, load_settings
from node.storage import Store, utcnow
from tests.conftest import free_port
from tests.sink import InboxSink, Reply, serving

BEN_ID = "https://conode.example/users/ben"
PUBLIC_ADDRESS = "93.184.215.14"  # what every test host name resolves to…
PRIVATE_ADDRESS = "10.0.0.7"  # …except intranet.example


def _activity(number: int = 1) -> Document:
    return {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"https://conode.example/activities/{number}",
        "type": "Create",
        "actor": BEN_ID,
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
        "object": {"id": f"https://conode.example/notes/{number}", "type": "Note"},
    }


async def _resolve(host: str, port: int) -> list[str]:
    return [PRIVATE_ADDRESS if host == "intranet.example" else PUBLIC_ADDRESS]


@asynccontextmanager
async def _open_node(
    settings: Settings,
    store: Store,
    transport: httpx.AsyncBaseTransport | None,
    policy: FetchPolicy,
) -> AsyncIterator[Node]:
    async with make_client(policy, transport=transport, user_agent="conode-test") as http:
        yield Node(settings, store, vault.load_secret(settings.secret_path), http, policy)


@pytest.fixture
async def node(settings: Settings, store: Store, sink: InboxSink) -> AsyncIterator[Node]:
    """The node under test, its outgoing requests answered by the sink."""
    policy = FetchPolicy(resolver=_resolve)
    async with _open_node(settings, store, httpx.ASGITransport(app=sink), policy) as value:
        yield value


async def _queue(store: Store, *urls: str, number: int = 1) -> str:
    activity = _activity(number)
    await delivery.enqueue(store, activity=activity, sender="ben", inbox_urls=urls)
    return str(activity["id"])


async def _row(store: Store, activity_id: str, inbox_url: str) -> dict[str, Any]:
    rows = await store.deliveries_of(activity_id)
    return next(row for row in rows if row["inbox_url"] == inbox_url)


async def _log(store: Store) -> list[tuple[str, str]]:
    entries = await store.log_entries(direction="delivery")
    return [(entry["outcome"], entry["reason"]) for entry in entries]


# --- enqueue ----------------------------------------------------------------------------------


async def test_enqueue_collapses_duplicate_inboxes_and_is_idempotent(store: Store) -> None:
    urls = ["https://a.example/inbox", "https://b.example/inbox", "https://a.example/inbox"]

    first = await delivery.enqueue(store, activity=_activity(), sender="ben", inbox_urls=urls)
    again = await delivery.enqueue(store, activity=_activity(), sender="ben", inbox_urls=urls)

    assert (first, again) == (2, 0)
    rows = await store.deliveries_of(_activity()["id"])
    assert [row["inbox_url"] for row in rows] == urls[:2]
    assert [row["host"] for row in rows] == ["a.example", "b.example"]
    assert {row["status"] for row in rows} == {"pending"}


async def test_enqueue_stores_the_unsigned_activity(store: Store) -> None:
    activity_id = await _queue(store, "https://a.example/inbox")

    (row,) = await store.deliveries_of(activity_id)
    assert json.loads(row["body"]) == _activity()
    assert "signature" not in row["body"].lower()
    assert row["attempts"] == 0 and row["next_attempt_at"] <= utcnow()


async def test_enqueue_commits_and_rolls_back_with_the_callers_transaction(store: Store) -> None:
    # Given a publish that fails after its deliveries were queued
    with pytest.raises(RuntimeError):
        async with store.transaction():
            await _queue(store, "https://a.example/inbox", number=1)
            raise RuntimeError("the post could not be saved")
    # When another publish succeeds
    async with store.transaction():
        await _queue(store, "https://a.example/inbox", number=2)
    # Then only the second one's deliveries exist
    assert await store.deliveries_of(str(_activity(1)["id"])) == []
    assert len(await store.deliveries_of(str(_activity(2)["id"]))) == 1


async def test_enqueue_fans_out_to_a_thousand_inboxes(store: Store) -> None:
    urls = [f"https://host{n % 50}.example/users/u{n}/inbox" for n in range(1000)]

    added = await delivery.enqueue(store, activity=_activity(), sender="ben", inbox_urls=urls)

    assert added == 1000
    assert await store.count_deliveries("pending") == 1000


async def test_enqueue_refuses_an_activity_without_id(store: Store) -> None:
    with pytest.raises(delivery.DeliveryError, match="needs an id"):
        await delivery.enqueue(store, activity={"type": "Create"}, sender="ben", inbox_urls=[])


# --- outcomes ---------------------------------------------------------------------------------


async def test_a_2xx_answer_marks_the_delivery_delivered(
    node: Node, store: Store, sink: InboxSink
) -> None:
    activity_id = await _queue(store, "https://a.example/inbox")

    assert await delivery.run_once(node) == 1

    row = await _row(store, activity_id, "https://a.example/inbox")
    assert (row["status"], row["attempts"], row["last_status"]) == ("delivered", 1, 202)
    assert row["locked_until"] is None
    assert [r.signer for r in sink.received] == [BEN_ID]
    assert await _log(store) == [("delivered", "http 202")]
    (entry,) = await store.log_entries(direction="delivery")
    assert (entry["activity_id"], entry["host"], entry["type"]) == (
        activity_id,
        "a.example",
        "Create",
    )
    assert await delivery.run_once(node, now=utcnow() + timedelta(days=3)) == 0


async def test_each_attempt_is_signed_afresh_and_both_verify(
    node: Node, store: Store, sink: InboxSink
) -> None:
    # Given an inbox that fails once, then accepts
    sink.answer("https://a.example/inbox", 503, 202)
    activity_id = await _queue(store, "https://a.example/inbox")
    start = utcnow()
    # When the worker tries, and tries again once the backoff has passed
    await delivery.run_once(node, now=start)
    await delivery.run_once(node, now=start + timedelta(minutes=2))
    # Then the same unsigned body went out twice, with a new Date and Signature, both valid
    first, second = sink.received
    assert first.body == second.body
    assert first.headers["date"] != second.headers["date"]
    assert first.headers["signature"] != second.headers["signature"]
    assert first.signer == second.signer == BEN_ID
    # RFC 9421 first (double-knocking, activitypub/auth.py), covering the body's digest
    assert '("@method" "@target-uri" "content-digest")' in first.headers["signature-input"]
    assert (await _row(store, activity_id, "https://a.example/inbox"))["status"] == "delivered"


async def test_a_host_reading_only_draft_cavage_is_asked_twice_once(
    node: Node, store: Store, sink: InboxSink
) -> None:
    # Given an inbox that reads only draft-cavage, as Mastodon before 4.5 does
    sink.accepts = "draft-cavage"
    # When two activities are delivered to it, one pass after the other
    first_id = await _queue(store, "https://a.example/inbox", number=1)
    await delivery.run_once(node)
    second_id = await _queue(store, "https://a.example/inbox", number=2)
    await delivery.run_once(node)
    # Then the first was refused with RFC 9421 and taken with draft-cavage; the second went
    # straight out with draft-cavage, re-signed for its own attempt
    assert [(r.activity_id, r.signer is not None) for r in sink.received] == [
        (None, False),
        (first_id, True),
        (second_id, True),
    ]
    assert ["signature-input" in r.headers for r in sink.received] == [True, False, False]
    for activity_id in (first_id, second_id):
        row = await _row(store, activity_id, "https://a.example/inbox")
        assert row["status"] == "delivered"


async def test_a_503_is_retried_after_the_backoff(
    node: Node, store: Store, sink: InboxSink
) -> None:
    # Given an inbox that answers 503 once
    sink.answer("https://a.example/inbox", 503, 202)
    activity_id = await _queue(store, "https://a.example/inbox")
    start = utcnow()
    # When the first attempt fails
    await delivery.run_once(node, now=start)
    # Then the row waits 30 s ± 20 % and is not tried before
    row = await _row(store, activity_id, "https://a.example/inbox")
    assert row["status"] == "pending" and row["last_status"] == 503
    assert start + timedelta(seconds=24) <= row["next_attempt_at"] <= start + timedelta(seconds=36)
    assert await delivery.run_once(node, now=start + timedelta(seconds=20)) == 0
    # And after the backoff it is delivered
    assert await delivery.run_once(node, now=start + timedelta(seconds=40)) == 1
    row = await _row(store, activity_id, "https://a.example/inbox")
    assert (row["status"], row["attempts"]) == ("delivered", 2)
    outcomes = await _log(store)
    assert outcomes[0][0] == "retry" and outcomes[0][1].startswith("http 503; retry in ")
    assert outcomes[1] == ("delivered", "http 202")


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
async def test_timeouts_rate_limits_and_server_errors_are_retried(
    node: Node, store: Store, sink: InboxSink, status: int
) -> None:
    sink.answer("https://a.example/inbox", status)
    activity_id = await _queue(store, "https://a.example/inbox")

    await delivery.run_once(node)

    row = await _row(store, activity_id, "https://a.example/inbox")
    assert (row["status"], row["last_status"]) == ("pending", status)
    assert (await _log(store))[0][0] == "retry"


async def test_retry_after_in_seconds_is_honoured_when_later(
    node: Node, store: Store, sink: InboxSink
) -> None:
    sink.answer("https://a.example/inbox", Reply(429, {"Retry-After": "120"}))
    activity_id = await _queue(store, "https://a.example/inbox")
    start = utcnow()

    await delivery.run_once(node, now=start)

    row = await _row(store, activity_id, "https://a.example/inbox")
    assert row["next_attempt_at"] >= start + timedelta(seconds=120)
    assert await delivery.run_once(node, now=start + timedelta(seconds=100)) == 0
    assert (await _log(store))[0] == ("retry", "http 429; retry in 2m")


async def test_retry_after_as_a_date_is_honoured(node: Node, store: Store, sink: InboxSink) -> None:
    activity_id = await _queue(store, "https://a.example/inbox")
    start = (utcnow() + timedelta(seconds=1)).replace(microsecond=0)
    later = format_datetime(start + timedelta(hours=1), usegmt=True)
    sink.answer("https://a.example/inbox", Reply(503, {"Retry-After": later}))

    await delivery.run_once(node, now=start)

    row = await _row(store, activity_id, "https://a.example/inbox")
    assert row["next_attempt_at"] == start + timedelta(hours=1)


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410, 422])
async def test_other_client_errors_give_up_after_one_attempt(
    node: Node, store: Store, sink: InboxSink, status: int
) -> None:
    sink.answer("https://a.example/inbox", status)
    activity_id = await _queue(store, "https://a.example/inbox")

    await delivery.run_once(node)

    row = await _row(store, activity_id, "https://a.example/inbox")
    assert (row["status"], row["attempts"], row["last_status"]) == ("gave_up", 1, status)
    assert await _log(store) == [("gave_up", f"http {status}: gave up")]
    assert await delivery.run_once(node, now=utcnow() + timedelta(days=3)) == 0
    # one attempt; a 400 or 401 to RFC 9421 is asked again with draft-cavage within it
    assert len(sink.received) == (2 if status in (400, 401) else 1)


async def test_a_refused_connection_is_retried(settings: Settings, store: Store) -> None:
    # Given an inbox on a real local port where nothing listens
    inbox_url = f"http://127.0.0.1:{free_port()}/inbox"
    activity_id = await _queue(store, inbox_url)
    policy = FetchPolicy(allow_private_networks=True)
    # When the worker tries it over the network
    async with _open_node(settings, store, None, policy) as node:
        assert await delivery.run_once(node) == 1
    # Then the connection error is logged and the row waits for another try
    row = await _row(store, activity_id, inbox_url)
    assert (row["status"], row["last_status"]) == ("pending", None)
    assert row["last_error"].startswith("connect failed")
    ((outcome, reason),) = await _log(store)
    assert outcome == "retry" and reason.startswith("connect failed; retry in ")


async def test_a_private_address_is_refused_and_given_up(
    node: Node, store: Store, sink: InboxSink
) -> None:
    activity_id = await _queue(store, "https://intranet.example/inbox")

    await delivery.run_once(node)

    row = await _row(store, activity_id, "https://intranet.example/inbox")
    assert row["status"] == "gave_up"
    assert sink.received == []
    assert await _log(store) == [("gave_up", "private address refused: gave up")]


async def test_a_delivery_gives_up_after_max_attempts(
    node: Node, store: Store, sink: InboxSink
) -> None:
    # Given an inbox that always answers 503
    sink.answer("https://a.example/inbox", 503)
    activity_id = await _queue(store, "https://a.example/inbox")
    # When the worker runs once a day (past every backoff and host pause)
    now = utcnow()
    for _ in range(retry_policy.MAX_ATTEMPTS + 2):
        sink.now = now  # the worker dates its signatures by the time it is given
        await delivery.run_once(node, now=now)
        now += timedelta(days=1)
    # Then it tried MAX_ATTEMPTS times and gave up
    row = await _row(store, activity_id, "https://a.example/inbox")
    assert (row["status"], row["attempts"]) == ("gave_up", retry_policy.MAX_ATTEMPTS)
    assert len(sink.received) == retry_policy.MAX_ATTEMPTS
    outcome, reason = (await _log(store))[-1]
    assert outcome == "gave_up"
    assert reason.startswith(f"http 503: gave up after {retry_policy.MAX_ATTEMPTS} attempts")


async def test_a_failing_host_is_paused_while_other_hosts_are_served(
    node: Node, store: Store, sink: InboxSink
) -> None:
    # Given a host whose inboxes all fail HOST_PAUSE_AFTER times
    down = [f"https://down.example/users/u{n}/inbox" for n in range(retry_policy.HOST_PAUSE_AFTER)]
    for url in down:
        sink.answer(url, 503, 202)
    await _queue(store, *down, number=1)
    start = utcnow()
    await delivery.run_once(node, now=start)
    health = await store.host_health("down.example")
    assert health is not None and health["consecutive_failures"] == retry_policy.HOST_PAUSE_AFTER
    assert health["paused_until"] == start + retry_policy.HOST_PAUSE
    assert "host paused for 10m" in (await _log(store))[-1][1]
    # When a new activity goes to that host and to a healthy one, within the pause
    activity_id = await _queue(
        store, "https://down.example/inbox", "https://up.example/inbox", number=2
    )
    later = start + timedelta(minutes=5)
    assert await delivery.run_once(node, now=later) == 1
    # Then only the healthy host was tried
    assert len(sink.from_inbox("https://down.example/inbox")) == 0
    assert len(sink.from_inbox("https://up.example/inbox")) == 1
    # And once the pause is over the host is tried again, and its success resets its health
    assert await delivery.run_once(node, now=start + timedelta(minutes=11)) == 6
    assert (await _row(store, activity_id, "https://down.example/inbox"))["status"] == "delivered"
    health = await store.host_health("down.example")
    assert health is not None
    assert (health["consecutive_failures"], health["paused_until"]) == (0, None)


async def test_a_host_pause_grows_with_further_failures(
    node: Node, store: Store, sink: InboxSink
) -> None:
    # Given a host paused after HOST_PAUSE_AFTER failures
    urls = [f"https://down.example/users/u{n}/inbox" for n in range(retry_policy.HOST_PAUSE_AFTER)]
    for url in urls:
        sink.answer(url, 503)
    await _queue(store, *urls)
    start = utcnow()
    await delivery.run_once(node, now=start)
    # When every row fails again after the pause
    after = start + timedelta(hours=1)
    await delivery.run_once(node, now=after)
    # Then the first failure doubled the pause, and the failures in flight with it added nothing
    health = await store.host_health("down.example")
    assert health is not None
    assert health["consecutive_failures"] == retry_policy.HOST_PAUSE_AFTER + 1
    assert health["paused_until"] == after + 2 * retry_policy.HOST_PAUSE


async def test_claimed_rows_are_leased_to_one_worker(store: Store) -> None:
    await _queue(store, "https://a.example/inbox", "https://b.example/inbox")
    now = utcnow()

    first = await store.claim_deliveries(now=now, lease_until=now + retry_policy.LEASE, limit=1)
    second = await store.claim_deliveries(now=now, lease_until=now + retry_policy.LEASE, limit=5)
    third = await store.claim_deliveries(now=now, lease_until=now + retry_policy.LEASE, limit=5)
    expired = now + retry_policy.LEASE + timedelta(seconds=1)
    again = await store.claim_deliveries(
        now=expired, lease_until=expired + retry_policy.LEASE, limit=5
    )

    assert [row["inbox_url"] for row in first] == ["https://a.example/inbox"]
    assert [row["inbox_url"] for row in second] == ["https://b.example/inbox"]
    assert third == []
    assert [row["attempts"] for row in again] == [2, 2]


async def test_claimed_by_names_the_last_attempts_worker_and_holds_nothing_once_finished(
    node: Node, store: Store, sink: InboxSink
) -> None:
    """claimed_by is kept when an attempt is recorded: it says which worker sent the row last
    (what an operator needs after a kill; the scale-out test reads it). Only locked_until
    holds a row, so a retry is claimed by whichever worker comes next."""
    sink.answer("https://b.example/inbox", 503, 202)
    activity_id = await _queue(store, "https://a.example/inbox", "https://b.example/inbox")
    start = utcnow()
    await delivery.run_once(node, now=start)
    rows = {row["inbox_url"]: row for row in await store.deliveries_of(activity_id)}
    assert [(row["status"], row["claimed_by"], row["locked_until"]) for row in rows.values()] == [
        ("delivered", retry_policy.worker_name(), None),
        ("pending", retry_policy.worker_name(), None),
    ]
    later = start + timedelta(minutes=2)
    claimed = await store.claim_deliveries(
        now=later, lease_until=later + retry_policy.LEASE, limit=5, worker="other-host:1"
    )
    assert [row["inbox_url"] for row in claimed] == ["https://b.example/inbox"]
    rows = {row["inbox_url"]: row for row in await store.deliveries_of(activity_id)}
    assert rows["https://b.example/inbox"]["claimed_by"] == "other-host:1"
    assert rows["https://a.example/inbox"]["claimed_by"] == retry_policy.worker_name()


async def test_two_workers_at_once_never_send_a_row_twice(
    settings: Settings, node: Node, store: Store, sink: InboxSink
) -> None:
    # Given 60 queued deliveries and a second worker with its own database connections
    urls = [f"https://host{n % 3}.example/users/u{n}/inbox" for n in range(60)]
    await _queue(store, *urls)
    other_store = Store(settings.database_url)
    await other_store.connect()
    try:
        other = dataclasses.replace(node, store=other_store)
        # When both work the queue at the same time until it is empty
        done = [0, 0]
        while True:
            passes = await asyncio.gather(
                delivery.run_once(node, limit=7, concurrency=4),
                delivery.run_once(other, limit=7, concurrency=4),
            )
            if not any(passes):
                break
            done = [total + count for total, count in zip(done, passes, strict=True)]
    finally:
        await other_store.disconnect()
    # Then both took a share, and every inbox got the activity exactly once
    assert min(done) > 0 and sum(done) == 60
    assert sorted(f"https://{r.host}{r.path}" for r in sink.received) == sorted(urls)
    assert await store.count_deliveries("delivered") == 60


async def test_two_workers_recording_mixed_answers_at_once_finish_every_pass(
    settings: Settings, node: Node, store: Store, sink: InboxSink
) -> None:
    """Successes and failures on many hosts in both passes: each pass takes the `hosts` rows
    in one order (on PostgreSQL two passes taking them in different orders deadlock)."""
    # Given 132 deliveries over 11 hosts, every third inbox (on every host) answering 503
    urls = [f"https://host{n % 11:02}.example/users/u{n}/inbox" for n in range(132)]
    failing = urls[::3]
    for url in failing:
        sink.answer(url, 503)
    await _queue(store, *urls)
    other_store = Store(settings.database_url)
    await other_store.connect()
    try:
        other = dataclasses.replace(node, store=other_store)
        # When both work the queue at the same time until nothing is due
        while any(
            await asyncio.gather(
                delivery.run_once(node, limit=13, concurrency=8),
                delivery.run_once(other, limit=11, concurrency=8),
            )
        ):
            pass
    finally:
        await other_store.disconnect()
    # Then every pass was recorded: each inbox tried once, the failures wait for their retry
    assert sorted(f"https://{r.host}{r.path}" for r in sink.received) == sorted(urls)
    assert await store.count_deliveries("delivered") == 132 - len(failing)
    assert await store.count_deliveries("pending") == len(failing)
    for n in range(11):
        health = await store.host_health(f"host{n:02}.example")
        assert health is not None and health["last_success_at"] is not None


async def test_a_pass_logs_its_attempts_in_order_with_empty_and_unicode_fields(
    store: Store,
) -> None:
    entries = [
        {
            "direction": "delivery",
            "outcome": "delivered" if n % 2 else "retry",
            "reason": f'http 202 \u2014 n\u00b0{n} "quoted"',
            "activity_id": f"https://conode.example/activities/{n}" if n % 3 else None,
            "type_": "Create" if n % 3 else None,
            "actor_id": None,
            "host": f"h{n}.example",
        }
        for n in range(150)
    ]
    await store.log_many(entries)
    logged = sorted(await store.log_entries(direction="delivery"), key=lambda e: int(e["id"]))
    assert [
        (e["host"], e["outcome"], e["reason"], e["activity_id"], e["type"], e["actor_id"])
        for e in logged
    ] == [
        (e["host"], e["outcome"], e["reason"], e["activity_id"], e["type_"], None) for e in entries
    ]
    assert len({e["created_at"] for e in logged}) == 1


async def test_a_pass_logs_one_line_and_a_line_per_row_not_delivered(
    node: Node, store: Store, sink: InboxSink, caplog: pytest.LogCaptureFixture
) -> None:
    # Given three inboxes that take the activity and one that answers 503
    sink.answer("https://d.example/inbox", 503)
    urls = [f"https://{name}.example/inbox" for name in "abcd"]
    activity_id = await _queue(store, *urls)
    # When a pass delivers them, logged at INFO (what `conode worker` logs)
    with caplog.at_level(logging.INFO, logger="node.federation.delivery"):
        assert await delivery.run_once(node) == 4
    # Then one line sums the pass up and one names the row not delivered
    lines = [r.getMessage() for r in caplog.records if r.name == "node.federation.delivery"]
    assert lines[-1] == "delivery pass: 4 attempted, 3 delivered, 1 to retry, 0 given up"
    assert len(lines) == 2
    assert lines[0].startswith(f"delivery {activity_id} to https://d.example/inbox (attempt 1)")
    # and every attempt is in the activity log all the same
    assert sorted(outcome for outcome, _ in await _log(store)) == ["delivered"] * 3 + ["retry"]


async def test_at_debug_a_pass_logs_every_row(
    node: Node, store: Store, sink: InboxSink, caplog: pytest.LogCaptureFixture
) -> None:
    activity_id = await _queue(store, "https://a.example/inbox", "https://b.example/inbox")
    with caplog.at_level(logging.DEBUG, logger="node.federation.delivery"):
        await delivery.run_once(node)
    lines = [r.getMessage() for r in caplog.records if r.name == "node.federation.delivery"]
    assert lines == [
        f"delivery {activity_id} to https://a.example/inbox (attempt 1): delivered, http 202",
        f"delivery {activity_id} to https://b.example/inbox (attempt 1): delivered, http 202",
        "delivery pass: 2 attempted, 2 delivered, 0 to retry, 0 given up",
    ]


async def test_a_pass_has_at_most_its_concurrency_in_flight_and_attempts_every_row(
    settings: Settings, store: Store, sink: InboxSink
) -> None:
    # Given an inbox that holds each request 50 ms, counting those in flight
    sink.delay = 0.05
    in_flight, most = 0, 0

    async def counting(scope: Any, receive: Any, send: Any) -> None:
        nonlocal in_flight, most
        in_flight += 1
        most = max(most, in_flight)
        try:
            await sink(scope, receive, send)
        finally:
            in_flight -= 1

    urls = [f"https://h{n:02}.example/inbox" for n in range(10)]
    activity_id = await _queue(store, *urls)
    transport = httpx.ASGITransport(app=counting)
    async with _open_node(settings, store, transport, FetchPolicy(resolver=_resolve)) as node:
        # When a pass of 10 rows is sent 3 at a time
        assert await delivery.run_once(node, limit=10, concurrency=3) == 10
    # Then never more than 3 were in flight, and each row went out once and was recorded
    assert most == 3
    assert sorted(r.host for r in sink.received) == [f"h{n:02}.example" for n in range(10)]
    rows = await store.deliveries_of(activity_id)
    assert [row["status"] for row in rows] == ["delivered"] * 10


# --- the policy as numbers --------------------------------------------------------------------


def test_the_retry_schedule_spans_about_two_days() -> None:
    waits = [retry_policy.backoff(n, spread=0) for n in range(1, retry_policy.MAX_ATTEMPTS)]

    assert waits[0] == retry_policy.BACKOFF_BASE
    assert max(waits) == retry_policy.BACKOFF_CAP
    assert timedelta(days=1.5) <= sum(waits, timedelta()) <= timedelta(days=3)


def test_backoff_jitter_stays_within_bounds() -> None:
    waits = {retry_policy.backoff(3).total_seconds() for _ in range(200)}

    base = retry_policy.BACKOFF_BASE.total_seconds() * retry_policy.BACKOFF_FACTOR**2
    assert len(waits) > 1
    assert all(base * 0.8 <= wait <= base * 1.2 for wait in waits)


def test_a_host_pause_doubles_up_to_its_cap() -> None:
    pauses = [retry_policy.host_pause(retry_policy.HOST_PAUSE_AFTER + n) for n in range(12)]

    assert pauses[:3] == [retry_policy.HOST_PAUSE * k for k in (1, 2, 4)]
    assert pauses[-1] == retry_policy.HOST_PAUSE_CAP


# --- the worker -------------------------------------------------------------------------------


async def test_the_worker_pass_delivers_and_counts(
    node: Node, store: Store, sink: InboxSink
) -> None:
    await _queue(store, "https://a.example/inbox", "https://b.example/inbox")

    assert await worker.run_once(node) == 2
    assert await worker.run_once(node) == 0
    assert await store.count_deliveries("delivered") == 2


async def test_the_background_worker_delivers_then_stops_when_told(
    node: Node, store: Store, sink: InboxSink
) -> None:
    # Given a queued delivery and the worker running as `conode serve` runs it
    await _queue(store, "https://a.example/inbox")
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run_in_background(node, stop))
    # When it is asked to stop while the inbox is receiving the activity
    await asyncio.wait_for(sink.arrived.wait(), timeout=10)
    stop.set()
    # Then it finishes the pass in progress, recording the delivery, and stops
    await asyncio.wait_for(task, timeout=5)
    assert [r.signer for r in sink.received] == [BEN_ID]
    assert await store.count_deliveries("delivered") == 1


async def test_serve_leaves_the_queues_to_a_running_conode_worker(
    node: Node, store: Store, sink: InboxSink
) -> None:
    # Given a `conode worker` beating on this database, and a queued delivery
    await store.beat("elsewhere:4242", "worker", "elsewhere", utcnow())
    await _queue(store, "https://a.example/inbox")
    # When the serving process's worker loop runs for a while (three idle pauses)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run_in_background(node, stop))
    await asyncio.sleep(3 * worker.IDLE_SECONDS)
    stop.set()
    await asyncio.wait_for(task, timeout=5)
    # Then it left the delivery to the worker
    assert sink.received == []
    assert await store.count_deliveries("delivered") == 0
    # And once no worker beats any more, the serving process delivers it itself
    await store.end_heartbeat("elsewhere:4242")
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run_in_background(node, stop))
    await asyncio.wait_for(sink.arrived.wait(), timeout=10)
    stop.set()
    await asyncio.wait_for(task, timeout=5)
    assert await store.count_deliveries("delivered") == 1


# --- the kill test ----------------------------------------------------------------------------

INBOXES = 200
LEASE_SECONDS = 5  # CONODE_DELIVERY_LEASE_SECONDS: rows leased by the killed worker free up fast


async def _count(store: Store, status: str) -> int:
    return await store.count_deliveries(status)


async def _until(probe: Callable[[], Awaitable[int]], target: int, *, timeout: float) -> None:
    """Poll until probe() reaches target (the kill test's only waiting)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while await probe() < target:
        assert asyncio.get_running_loop().time() < deadline, f"gave up waiting for {target}"
        await asyncio.sleep(0.02)


async def _start_worker(settings: Settings, log: Path) -> asyncio.subprocess.Process:
    env = os.environ | {
        "CONODE_URL": settings.url,
        "CONODE_DATABASE_URL": settings.database_url,
        "CONODE_KEYS_DIR": str(settings.keys_dir),
        "CONODE_ALLOW_PRIVATE_NETWORKS": "1",
        retry_policy.LEASE_ENV: str(LEASE_SECONDS),
    }
    command = [sys.executable, "-m", "node.cli", "worker"]
    with log.open("ab") as output:  # the child keeps its own copy of the descriptor
        return await asyncio.create_subprocess_exec(
            *command, env=env, cwd=log.parent, stdout=output, stderr=output
        )


async def _in_flight(store: Store, activity_id: str) -> set[str]:
    """Inboxes whose rows a worker holds leased: sent or about to be, outcome not recorded."""
    now = utcnow()
    return {
        row["inbox_url"]
        for row in await store.deliveries_of(activity_id)
        if row["status"] == "pending" and row["locked_until"] and row["locked_until"] > now
    }


async def test_a_killed_worker_loses_no_delivery_and_repeats_only_those_in_flight(
    settings: Settings, store: Store, ben_key: PublicKey, tmp_path: Path
) -> None:
    # Given one activity queued to 200 inboxes of a real HTTP server that answers slowly
    sink = InboxSink([ben_key], delay=0.25)
    port = free_port()
    urls = [f"http://127.0.0.1:{port}/inbox/{n}" for n in range(INBOXES)]
    log = tmp_path / "worker.log"

    async def hits() -> int:
        return len(sink.received)

    async with serving(sink, port):
        activity_id = await _queue(store, *urls)
        # When a `conode worker` is SIGKILLed a quarter of the way through the fan-out
        first = await _start_worker(settings, log)
        await _until(hits, INBOXES // 4, timeout=60)
        first.send_signal(signal.SIGKILL)
        await first.wait()
        in_flight = await _in_flight(store, activity_id)
        hits_at_kill = len(sink.received)
        # And a new worker is started, then stopped once everything is delivered
        second = await _start_worker(settings, log)
        await _until(lambda: _count(store, "delivered"), INBOXES, timeout=60)
        second.send_signal(signal.SIGTERM)
        exit_status = await asyncio.wait_for(second.wait(), timeout=15)
    # Then every inbox received the activity, and only rows in flight at the kill came twice
    per_inbox = Counter(f"http://127.0.0.1:{port}{r.path}" for r in sink.received)
    duplicates = sum(count - 1 for count in per_inbox.values())
    print(
        f"\nkill test: killed after {hits_at_kill} requests with {len(in_flight)} deliveries "
        f"in flight (leased); {duplicates} inboxes received the activity twice; "
        f"{len(sink.received)} requests in all for {INBOXES} inboxes"
    )
    assert set(per_inbox) == set(urls), log.read_text()[-3000:]
    assert duplicates <= len(in_flight)
    assert {url for url, count in per_inbox.items() if count > 1} <= in_flight
    assert {(r.activity_id, r.signer) for r in sink.received} == {(activity_id, BEN_ID)}
    assert exit_status == 0, log.read_text()[-3000:]


# --- signing threads ----------------------------------------------------------------------------


@pytest.mark.parametrize("threads", [0, 1, 2])
async def test_signing_threads_is_how_many_threads_sign_beside_the_loop(
    settings: Settings, store: Store, sink: InboxSink, threads: int
) -> None:
    # Given a node whose CONODE_SIGNING_THREADS says `threads`, and inboxes on a real port
    port = free_port()
    inboxes = [f"http://127.0.0.1:{port}/inbox/{n}" for n in range(4)]
    activity_id = await _queue(store, *inboxes)
    settings = dataclasses.replace(settings, signing_threads=threads, allow_private_networks=True)
    # When its worker delivers them over the network
    async with serving(sink, port), open_node(settings) as node:
        assert await delivery.run_once(node) == len(inboxes)
        signers = [t for t in threading.enumerate() if t.name.startswith("conode-signing")]
    # Then each arrived signed, and `threads` threads made the signatures
    assert {row["status"] for row in await store.deliveries_of(activity_id)} == {"delivered"}
    assert sorted(r.path for r in sink.received) == sorted(urlsplit(u).path for u in inboxes)
    assert all(r.signer == BEN_ID for r in sink.received)
    assert len(signers) == threads


def test_signing_threads_is_one_unless_set() -> None:
    assert load_settings({}, env_file=None).signing_threads == 1
    assert load_settings({"CONODE_SIGNING_THREADS": "0"}, env_file=None).signing_threads == 0


@pytest.mark.parametrize("value", ["many", "-1", "1.5"])
def test_a_signing_threads_setting_that_is_not_a_count_is_refused(value: str) -> None:
    with pytest.raises(SettingsError, match=f"CONODE_SIGNING_THREADS={value!r}"):
        load_settings({"CONODE_SIGNING_THREADS": value}, env_file=None)
