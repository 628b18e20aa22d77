"""Real payloads captured from Mastodon, Pleroma and Smithereen (tests/fixtures/payloads/,
sources in SOURCES.md) go through the real inbox. Only what must point at our node is
rewritten (the post replied to, the actor followed); each is signed by a fake server at the
payload's own host, with a key for the payload's own actor."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from ..conftest import TEST_URL
from ..fediverse import FakeServer
from .conftest import Network

PAYLOADS = Path(__file__).resolve().parent.parent / "fixtures" / "payloads"
SHARED_INBOX = f"{TEST_URL}/inbox"
BEN = f"{TEST_URL}/users/ben"


def load(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((PAYLOADS / name).read_text())
    return document


def server_for(net: Network, actor_id: str) -> tuple[FakeServer, str]:
    """A fake server at the actor's host that holds a key for the actor (…/users/NAME)."""
    host = actor_id.split("/")[2]
    name = actor_id.rstrip("/").rsplit("/", 1)[1]
    server = FakeServer(host, net.fediverse)
    server.add_user(name)
    assert server.actor_id(name) == actor_id
    return server, name


def aimed_at(activity: dict[str, Any], post_id: str) -> dict[str, Any]:
    rewritten = copy.deepcopy(activity)
    rewritten["object"]["inReplyTo"] = post_id
    rewritten["object"].pop("inReplyToAtomUri", None)
    return rewritten


REPLIES = [
    "mastodon_create_note_reply.json",
    "mastodon_create_note_reply_2019.json",
    "pleroma_create_note_reply.json",
    "pleroma_create_note_reply_to_misskey.json",
    "smithereen_create_note_reply.json",
]


@pytest.mark.parametrize("payload", REPLIES)
async def test_captured_replies_become_held_comments(network: Network, payload: str) -> None:
    # Given one of our posts and a real reply captured from another server, aimed at it
    post_id = await network.post()
    activity = aimed_at(load(payload), post_id)
    server, name = server_for(network, activity["actor"])
    # When its server delivers it, signed as that server would
    response = await server.send(name, activity, SHARED_INBOX)
    assert response.status_code == 202, response.text
    await network.drain()
    # Then it is a comment on our post, by that actor, held, its HTML sanitised
    note = await network.node.store.note(activity["object"]["id"])
    assert note is not None, await network.node.store.log_entries(direction="inbound")
    assert note.author_id == activity["actor"]
    assert note.post_id is not None
    assert note.status == "pending"
    assert "<script" not in note.content_html
    assert (
        'rel="nofollow noopener noreferrer ugc"' in note.content_html
        or "<a" not in note.content_html
    )


async def test_captured_mastodon_follow_gets_an_accept(network: Network) -> None:
    follow = load("mastodon_follow.json")
    follow["object"] = BEN
    server, name = server_for(network, follow["actor"])
    assert (await server.send(name, follow, SHARED_INBOX)).status_code == 202
    await network.drain()
    (accept,) = server.received("Accept")
    assert accept["object"]["id"] == follow["id"]
    # And the captured Undo of a Follow removes it again
    undo = load("mastodon_undo_follow.json")
    undo["object"]["id"] = follow["id"]
    undo["object"]["object"] = BEN
    assert (await server.send(name, undo, SHARED_INBOX)).status_code == 202
    await network.drain()
    ben = await network.node.store.local_actor("ben")
    assert ben is not None
    assert await network.node.store.follower_count(ben.id) == 0


async def test_captured_mastodon_like_is_counted(network: Network) -> None:
    post_id = await network.post()
    like = load("mastodon_like.json")
    like["object"] = post_id
    server, name = server_for(network, like["actor"])
    assert (await server.send(name, like, SHARED_INBOX)).status_code == 202
    await network.drain()
    assert await network.node.store.reaction_counts(post_id) == {"Like": 1}


async def test_captured_mastodon_update_edits_the_comment(network: Network) -> None:
    post_id = await network.post()
    update = load("mastodon_update_note.json")
    server, name = server_for(network, update["actor"])
    created = {
        "@context": update["@context"],
        "id": update["object"]["id"] + "/activity",
        "type": "Create",
        "actor": update["actor"],
        "to": update["object"]["to"],
        "cc": update["object"]["cc"],
        "object": dict(update["object"], content="<p>before the edit</p>"),
    }
    await server.send(name, aimed_at(created, post_id), SHARED_INBOX)
    await network.drain()
    assert (await server.send(name, aimed_at(update, post_id), SHARED_INBOX)).status_code == 202
    await network.drain()
    note = await network.node.store.note(update["object"]["id"])
    assert note is not None and "before the edit" not in note.content_html
    assert note.updated_at is not None
