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
from .web import add_member, sign_in, token

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


# --- mentions ----------------------------------------------------------------------------------

CAT = f"{TEST_URL}/users/cat"


async def _notices(network: Network, name: str) -> list[tuple[str, str, str]]:
    row = await network.node.store.local_actor(name)
    assert row is not None
    return [
        (item["kind"], item["url"], item["actor_id"])
        for item in await network.node.store.notifications_of(row.id)
    ]


async def test_a_mention_from_another_server_tells_the_member_once_public(
    network: Network,
) -> None:
    store, settings = network.node.store, network.node.settings
    for name in ("ann", "cat"):
        await add_member(store, settings, name)
    object_id = await _report(network, "ann")
    # When alice, new here, replies to ann's report mentioning cat (as Mastodon tags it)
    reply = network.mastodon.reply(
        "alice", object_id, "cat, look!", mention=(CAT, "@cat@conode.example")
    )
    await _send(network, network.mastodon, "alice", reply)
    # Then cat is not told while the comment waits for a moderator
    assert await _notices(network, "cat") == []
    # And once it is approved, she is told once, with a link to the comment itself
    note = await store.note(reply["object"]["id"])
    assert note is not None and note.id is not None
    await moderation.set_comment_status(store, note.id, "approved")
    await _send(network, network.mastodon, "alice", reply)  # delivered again: still once
    post_path = object_id.removeprefix(settings.url)
    comment_path = f"{post_path}#comment-{note.id}"
    assert await _notices(network, "cat") == [("mention", comment_path, ALICE)]
    assert await _notices(network, "ann") == [("reply", comment_path, ALICE)]
    await sign_in(network.http, "cat")
    page = await network.http.get(f"{TEST_URL}/notifications")
    assert "@alice@mastodon.example mentioned you" in page.text
    assert f'href="{settings.url}{comment_path}"' in page.text


async def test_a_post_elsewhere_mentioning_a_member_tells_them(network: Network) -> None:
    await add_member(network.node.store, network.node.settings, "cat")
    # When bob posts on Mastodon (a reply to nothing of ours) naming cat, publicly
    post = network.mastodon.reply("bob", "https://mastodon.example/x", "hi", mention=(CAT, "@cat"))
    post["object"]["inReplyTo"] = None
    await _send(network, network.mastodon, "bob", post)
    # And privately (a direct message naming her, which only she should see anyway)
    direct = network.mastodon.reply(
        "bob", "https://mastodon.example/x", "psst", mention=(CAT, "@cat"), visibility="direct"
    )
    direct["object"]["inReplyTo"] = None
    await _send(network, network.mastodon, "bob", direct)
    # Then cat is told of the public post, linked to it on its own server, and of nothing else
    bob = "https://mastodon.example/users/bob"
    assert await _notices(network, "cat") == [("mention", post["object"]["id"], bob)]


async def test_a_mention_in_a_members_post_or_comment_tells_the_member(network: Network) -> None:
    store, settings = network.node.store, network.node.settings
    for name in ("ann", "cat", "dan"):
        await add_member(store, settings, name)
    # When ann writes a report naming cat (and herself), and edits it
    row = await store.local_actor("ann")
    assert row is not None
    ann = local_actor(settings, row)
    draft = publishing.Draft("report", "Canal", "With @cat@conode.example and @ann@conode.example")
    post = await publishing.create_post(network.node, ann, draft)
    await publishing.edit_post(network.node, post, title="Canal!", body=None, summary=None)
    # Then cat is told once, with a link to the post; ann is not told of herself
    post_path = f"/posts/{post.public_id}"
    assert await _notices(network, "cat") == [("mention", post_path, f"{TEST_URL}/users/ann")]
    assert await _notices(network, "ann") == []
    # When dan comments on it through the web, naming cat
    await sign_in(network.http, "dan")
    form = {"csrf": await token(network.http, post_path), "body": "Thanks @cat@conode.example!"}
    answer = await network.http.post(f"{TEST_URL}{post_path}/comments", data=form)
    assert answer.status_code == 303
    comment_path = answer.headers["location"]
    # Then cat is told of the comment, and ann of the reply to her post
    dan = f"{TEST_URL}/users/dan"
    assert (await _notices(network, "cat"))[0] == ("mention", comment_path, dan)
    assert await _notices(network, "ann") == [("reply", comment_path, dan)]
    page = await network.http.get(f"{TEST_URL}{post_path}")
    assert f'href="{settings.url}/@cat"' in page.text  # the mention is a link
