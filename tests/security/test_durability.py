"""Durability settings and the inbound queue's behaviour when workers die (the SIGKILL test
itself is tests/security/test_crash.py)."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import pytest

from node.inbound import activities
from node.storage import Store, is_sqlite

from .conftest import BEN, Network


async def test_every_sqlite_connection_is_wal_with_full_sync(store: Store) -> None:
    if not is_sqlite(store.url):
        pytest.skip("SQLite connection settings")
    # A transaction holds its pooled connection, so the query beside it runs on another one.
    async with store.transaction():
        assert await store._db.fetch_val("PRAGMA synchronous") == 2  # FULL
        beside = asyncio.create_task(store._db.fetch_val("PRAGMA synchronous"))
        assert await beside == 2
    assert await store._db.fetch_val("PRAGMA journal_mode") == "wal"


async def test_a_row_that_keeps_killing_its_worker_is_set_aside(network: Network) -> None:
    # Given an accepted activity whose workers died mid-way MAX_INBOUND_ATTEMPTS times
    store = network.node.store
    follow = network.mastodon.follow("alice", BEN)
    actor = network.mastodon.actor_id("alice")
    await store.store_inbound(follow["id"], actor, "Follow", json.dumps(follow), None)
    for _ in range(activities.MAX_INBOUND_ATTEMPTS):
        assert len(await store.claim_inbound(10, timedelta(0))) == 1
    # And a healthy one queued behind it
    other = network.mastodon.follow("bob", BEN)
    bob = network.mastodon.actor_id("bob")
    await store.store_inbound(other["id"], bob, "Follow", json.dumps(other), None)
    # When the worker runs
    await network.drain()
    # Then the first is set aside as failed, and the second is acted on
    outcomes = {e["activity_id"]: e["outcome"] for e in await store.log_entries()}
    assert outcomes[follow["id"]] == "failed"
    assert outcomes[other["id"]] == "accepted"
    assert await store.count_inbound("failed") == 1
    assert len(network.mastodon.received("Accept")) == 1
