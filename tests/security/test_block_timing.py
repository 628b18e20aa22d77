"""Blocks take effect when `conode block add` returns, in every process, through the real
inbox: the inbox's in-memory block list (node/storage/block_list.py) may be up to a second
old, so the handlers check the database again when they act; a block names what it will
match, a server on a non-default port included; a target that could never match is refused."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator
from typing import Any

import pytest

from node.moderation import rules as moderation
from node.settings import Settings
from node.storage import Store

from ..fediverse import FakeServer
from .conftest import BEN, SHARED_INBOX, Network


@pytest.fixture
async def other_process(network: Network) -> AsyncIterator[Store]:
    """The database as another process (`conode block add`, a second web process) sees it:
    its own connection and its own in-memory block list."""
    store = Store(network.node.settings.database_url)
    await store.connect()
    try:
        yield store
    finally:
        await store.disconnect()


async def _log_of(net: Network, activity_id: str) -> list[dict[str, Any]]:
    entries = await net.node.store.log_entries(direction="inbound", limit=1000)
    return [e for e in entries if e["activity_id"] == activity_id]


async def _ben_followers(net: Network) -> int:
    ben = await net.node.store.local_actor("ben")
    assert ben is not None
    return await net.node.store.follower_count(ben.id)


async def test_a_follow_arriving_just_after_block_add_is_not_accepted(
    network: Network, other_process: Store
) -> None:
    # Given the serving process has just loaded its block list
    assert not await moderation.is_blocked(network.node.store, network.mastodon.actor_id("bob"))
    # When another process blocks mastodon.example, and bob's Follow arrives a moment later
    await moderation.block(other_process, "mastodon.example", "spam")
    follow = network.mastodon.follow("bob", BEN)
    response = await network.mastodon.send("bob", follow, SHARED_INBOX)
    assert response.status_code == 202
    await network.drain()
    # Then bob is no follower, and the log says why
    assert await _ben_followers(network) == 0
    (entry,) = [e for e in await _log_of(network, follow["id"]) if e["outcome"] != "queued"]
    assert (entry["outcome"], entry["reason"]) == ("dropped", "blocked")


async def test_a_reply_arriving_just_after_block_add_is_not_stored(
    network: Network, other_process: Store
) -> None:
    post_id = await network.post()
    assert not await moderation.is_blocked(network.node.store, network.mastodon.actor_id("alice"))
    await moderation.block(other_process, network.mastodon.actor_id("alice"), "")
    reply = network.mastodon.reply("alice", post_id, "buy cheap watches")
    assert (await network.mastodon.send("alice", reply, SHARED_INBOX)).status_code == 202
    await network.drain()
    assert await network.node.store.notes_with_status(None) == []


async def test_a_block_of_host_and_port_matches_the_server_on_that_port(
    network: Network,
) -> None:
    # Given a server on a non-default port, whose dora follows ben
    dora_server = FakeServer("social.example:8443", network.fediverse)
    dora = dora_server.add_user("dora")
    await dora_server.send("dora", dora_server.follow("dora", BEN), SHARED_INBOX)
    await network.drain()
    assert await _ben_followers(network) == 1
    # When the operator blocks it by host:port
    result = await moderation.block(network.node.store, "Social.Example:8443", "")
    # Then the block names what it matches, and dora is no longer a follower
    assert (result.kind, result.target) == ("domain", "social.example:8443")
    assert result.removed_followers == 1
    # And a new Follow is dropped at the inbox
    follow = dora_server.follow("dora", BEN)
    response = await dora_server.send("dora", follow, SHARED_INBOX)
    assert response.status_code == 202
    await network.drain()
    assert await _ben_followers(network) == 0
    assert await moderation.is_blocked(network.node.store, dora)
    # And the same host on another port is another server
    assert not await moderation.is_blocked(network.node.store, "https://social.example:9000/u")


def _block_add(settings: Settings, target: str) -> subprocess.CompletedProcess[str]:
    env = os.environ | {
        "CONODE_URL": settings.url,
        "CONODE_DATABASE_URL": settings.database_url,
        "CONODE_KEYS_DIR": str(settings.keys_dir),
    }
    return subprocess.run(
        [sys.executable, "-m", "node.cli", "block", "add", target],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    "target",
    [
        "social.example:99999",
        "social.example:http",
        "*.social.example",
        "@alice@mastodon.example",
        "https://mastodon.example",
        "mastodon example",
        "mastodon..example",
    ],
)
async def test_block_add_refuses_a_target_that_could_never_match(
    network: Network, target: str
) -> None:
    result = _block_add(network.node.settings, target)
    assert result.returncode == 2, result.stdout
    assert "could never match" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert await network.node.store.blocks() == []


async def test_block_add_through_the_command_names_what_it_matches(network: Network) -> None:
    result = _block_add(network.node.settings, "social.example:8443")
    assert result.returncode == 0, result.stderr
    assert "blocked domain social.example:8443" in result.stdout


async def test_a_fetched_parent_note_by_a_blocked_author_is_not_stored(network: Network) -> None:
    # Given carol (gts.example) replied to our post on her server, and carol is blocked here
    post_id = await network.post()
    parent = network.other.reply("carol", post_id, "carol's reply, never sent to us")["object"]
    await moderation.block(network.node.store, network.other.actor_id("carol"), "")
    # When alice replies to carol's note, and we fetch the thread up to our post
    reply = network.mastodon.reply("alice", parent["id"], "alice answers carol")
    assert (await network.mastodon.send("alice", reply, SHARED_INBOX)).status_code == 202
    await network.drain()
    # Then alice's reply is kept, and carol's note is not
    assert await network.node.store.note(reply["object"]["id"]) is not None
    assert await network.node.store.note(parent["id"]) is None
