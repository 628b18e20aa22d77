"""Notifications through the real inbox: a reply from another server to a member's offer
tells the member once; a new follower, a reply to a post once it is public; for moderators a
comment waiting and a new report. /notifications lists them newest first, unread marked, with
a count in the header."""

from __future__ import annotations

import re
from typing import Any

from node.content import publishing
from node.federation.actors import local_actor
from node.moderation import rules as moderation
from node.offers import proposals as offers

from ..conftest import TEST_URL
from ..fediverse import FakeServer
from .conftest import Network
from .web import add_member, sign_in

ALICE = "https://mastodon.example/users/alice"
SHARED_INBOX = f"{TEST_URL}/inbox"


async def _offer(network: Network, name: str) -> str:
    row = await network.node.store.local_actor(name)
    assert row is not None
    draft = publishing.Draft("offer", "Help in your garden", "Weeding, pruning.")
    terms = offers.OfferDraft(category="gardening", hours="2")
    post = await offers.create_offer(
        network.node, local_actor(network.node.settings, row), draft, terms
    )
    return publishing.post_id(network.node, post)


async def _report(network: Network, name: str) -> str:
    row = await network.node.store.local_actor(name)
    assert row is not None
    draft = publishing.Draft("report", "Canal clean-up", "We cleared the path.")
    post = await publishing.create_post(
        network.node, local_actor(network.node.settings, row), draft
    )
    return publishing.post_id(network.node, post)


async def _send(network: Network, server: FakeServer, name: str, activity: dict[str, Any]) -> None:
    response = await server.send(name, activity, SHARED_INBOX)
    assert response.status_code == 202, response.text
    await network.drain()


async def _kinds(network: Network, name: str) -> list[str]:
    row = await network.node.store.local_actor(name)
    assert row is not None
    return [item["kind"] for item in await network.node.store.notifications_of(row.id)]


def _unread_in_header(page: str) -> str | None:
    header = page.split("<main")[0]
    match = re.search(r'href="/notifications"[^>]*>[^<]*<span[^>]*>(\d+)', header)
    return match.group(1) if match else None


async def test_a_remote_reply_to_an_offer_notifies_its_author_once(network: Network) -> None:
    await add_member(network.node.store, network.node.settings, "ann")
    object_id = await _offer(network, "ann")
    # When alice replies to ann's offer from Mastodon, and her server sends it twice
    reply = network.mastodon.reply("alice", object_id, "I can help on Saturday")
    await _send(network, network.mastodon, "alice", reply)
    await _send(network, network.mastodon, "alice", reply)
    # Then ann has one notification: a response to her offer, from alice, linking to it
    ann = await network.node.store.local_actor("ann")
    assert ann is not None
    (item,) = await network.node.store.notifications_of(ann.id)
    assert item["kind"] == "response" and item["actor_id"] == ALICE
    assert item["url"].startswith("/posts/") and item["read_at"] is None
    # And she sees it on /notifications, marked unread, with a count in the header
    await sign_in(network.http, "ann")
    home = await network.http.get(f"{TEST_URL}/")
    assert _unread_in_header(home.text) == "1"
    page = await network.http.get(f"{TEST_URL}/notifications")
    assert page.status_code == 200
    assert "unread" in page.text and "@alice@mastodon.example" in page.text
    assert f'href="{network.node.settings.url}{item["url"]}"' in page.text
    # And once seen, they are read
    assert _unread_in_header((await network.http.get(f"{TEST_URL}/")).text) is None


async def test_a_follower_and_a_public_reply_notify_the_member(network: Network) -> None:
    store, settings = network.node.store, network.node.settings
    await add_member(store, settings, "ann")
    await add_member(store, settings, "mia", admin=True)
    object_id = await _report(network, "ann")
    await _send(
        network,
        network.mastodon,
        "alice",
        network.mastodon.follow("alice", f"{TEST_URL}/users/ann"),
    )
    assert await _kinds(network, "ann") == ["follower"]
    # When alice replies: a new author's comment is held, and moderators are told
    reply = network.mastodon.reply("alice", object_id, "Well done!")
    await _send(network, network.mastodon, "alice", reply)
    assert await _kinds(network, "ann") == ["follower"]  # not public yet
    assert await _kinds(network, "mia") == ["comment_waiting"]
    # Then once a moderator approves it, ann is told of the reply
    note = await store.note(reply["object"]["id"])
    assert note is not None and note.id is not None
    await moderation.set_comment_status(store, note.id, "approved")
    assert await _kinds(network, "ann") == ["reply", "follower"]
    # And a report reaches the moderators
    flag = network.mastodon.simple("alice", "Flag", [object_id])
    flag["content"] = "spam"
    await _send(network, network.mastodon, "alice", flag)
    assert await _kinds(network, "mia") == ["report", "comment_waiting"]
    assert await _kinds(network, "ann") == ["reply", "follower"]


async def test_notifications_need_a_signed_in_member(network: Network) -> None:
    page = await network.http.get(f"{TEST_URL}/notifications")
    assert page.status_code == 303 and page.headers["location"].startswith("/login")
