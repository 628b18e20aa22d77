"""The inbox's storage: the block list each process holds (node/storage/block_list.py) and the
group-commit writer (node/storage/inbound_batch.py, sqlite_writer.py), on both databases."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import pytest

from node.moderation import rules as moderation
from node.storage import Store, block_list
from node.storage.block_list import BlockList

ACTOR = "https://mastodon.example/users/alice"


async def test_a_block_list_is_loaded_again_only_when_stale_or_changed() -> None:
    now = [0.0]
    loads: list[int] = []
    blocks = BlockList(clock=lambda: now[0])

    async def load() -> list[str]:
        loads.append(1)
        return ["spam.example"]

    assert await blocks.targets(load) == {"spam.example"}
    now[0] += block_list.REFRESH_SECONDS / 2
    await blocks.targets(load)
    assert len(loads) == 1  # fresh: no query
    now[0] += block_list.REFRESH_SECONDS
    await blocks.targets(load)
    assert len(loads) == 2  # stale: loaded again
    blocks.changed()
    await blocks.targets(load)
    assert len(loads) == 3  # changed here: loaded at once


async def test_a_change_made_while_the_block_list_loads_is_not_missed() -> None:
    blocks = BlockList(clock=lambda: 0.0)
    loads: list[int] = []

    async def load() -> list[str]:
        loads.append(1)
        blocks.changed()  # a block added while this load's query ran
        return []

    await blocks.targets(load)
    await blocks.targets(load)
    assert len(loads) == 2


async def test_blocks_made_through_another_store_are_seen_once_the_list_is_stale(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given this store has checked (and so loaded) the block list, which is stale at once
    monkeypatch.setattr(block_list, "REFRESH_SECONDS", 0.0)
    assert not await moderation.is_blocked(store, ACTOR)
    # When another process (here, another Store on the same database) blocks the server
    other = Store(store.url)
    await other.connect()
    try:
        await moderation.block(other, "mastodon.example", "spam")
    finally:
        await other.disconnect()
    # Then this one sees it once its list is stale, and the unblock likewise
    assert await moderation.is_blocked(store, ACTOR)
    await moderation.unblock(store, "mastodon.example")
    assert not await moderation.is_blocked(store, ACTOR)


async def test_grouped_stores_keep_each_activity_once_and_tell_duplicates(store: Store) -> None:
    # Given 40 requests at once for 20 distinct activities (each arriving twice)
    ids = [f"{ACTOR}/statuses/{n}/activity" for n in range(20)]
    before = datetime.now(UTC)
    results = await asyncio.gather(
        *(
            store.store_inbound_grouped(i, ACTOR, "Create", json.dumps({"id": i}), None)
            for i in ids + ids
        )
    )
    # Then each id was new exactly once, and stored once
    assert sum(results) == 20
    assert await store.count_inbound("queued") == 20
    # And the rows read back as store_inbound() writes them
    rows = await store.claim_inbound(100, timedelta(seconds=60))
    assert sorted(row["activity_id"] for row in rows) == sorted(ids)
    row = rows[0]
    assert row["type"] == "Create" and row["actor_id"] == ACTOR and row["recipient"] is None
    assert json.loads(row["body"]) == {"id": row["activity_id"]}
    assert row["attempts"] == 1  # 0 when stored, 1 once claimed
    received = row["received_at"].replace(tzinfo=row["received_at"].tzinfo or UTC)
    assert before - timedelta(seconds=1) <= received <= datetime.now(UTC)
    # And one already stored is a duplicate in a later batch too
    assert not await store.store_inbound_grouped(ids[0], ACTOR, "Create", "{}", None)
