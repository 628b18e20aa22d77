"""Conversations as a whole (FEP-7888): every post has a `context` collection of the post and its
public comments, served to anyone, and a reply whose inReplyTo chain is broken is attached by
the `context` it carries. Through the real inbox, worker and HTTP."""

from __future__ import annotations

from typing import Any

from node.moderation import rules as moderation

from ..conftest import TEST_URL
from ..fediverse import FakeServer
from .conftest import Network

AP = {"Accept": "application/activity+json"}
BEN = f"{TEST_URL}/users/ben"
SHARED_INBOX = f"{TEST_URL}/inbox"


async def _send_reply(
    network: Network,
    server: FakeServer,
    name: str,
    to: str,
    *,
    context: str | None = None,
    **kwargs: Any,
) -> str:
    reply = server.reply(name, to, f"{name} says hello", **kwargs)
    if context is not None:
        reply["object"]["context"] = context
    response = await server.send(name, reply, SHARED_INBOX)
    assert response.status_code == 202, response.text
    await network.drain()
    return str(reply["object"]["id"])


async def _approve_all(network: Network) -> None:
    for note in await network.node.store.notes_with_status("pending"):
        await moderation.set_comment_status(network.node.store, note.id or 0, "approved")


async def _comment_post(network: Network, object_id: str) -> int | None:
    note = await network.node.store.note(object_id)
    return note.post_id if note is not None else None


async def test_a_post_names_its_context_which_lists_the_post_and_its_public_comments(
    network: Network,
) -> None:
    # Given ben's post, a public reply from alice (approved) and a followers-only one from bob
    object_id = await network.post()
    public = await _send_reply(network, network.mastodon, "alice", object_id)
    await _send_reply(network, network.mastodon, "bob", object_id, visibility="private")
    await _approve_all(network)
    # When anyone, unsigned, reads the post and then its context
    article = (await network.http.get(object_id, headers=AP)).json()
    response = await network.http.get(article["context"], headers=AP)
    # Then the context is an OrderedCollection of the post and the public comment only
    assert article["context"] == f"{object_id}/context"
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/activity+json")
    collection = response.json()
    assert collection["type"] == "OrderedCollection"
    assert collection["id"] == article["context"]
    assert collection["attributedTo"] == BEN
    assert collection["totalItems"] == 2
    assert collection["first"]["orderedItems"] == [object_id, public]
    assert collection["first"]["partOf"] == article["context"]


async def test_a_context_of_no_post_is_not_found(network: Network) -> None:
    response = await network.http.get(f"{TEST_URL}/posts/nothing/context", headers=AP)

    assert response.status_code == 404


async def test_a_reply_with_a_broken_chain_is_attached_by_our_context(network: Network) -> None:
    # Given ben's post, and a reply from alice to a note of bob's that no longer exists
    object_id = await network.post()
    missing = network.mastodon.new_id("bob")  # never served: fetching it gives 404
    # When the reply carries the post's context
    reply = await _send_reply(
        network, network.mastodon, "alice", missing, context=f"{object_id}/context"
    )
    # Then it becomes a comment under the post, its context recorded
    note = await network.node.store.note(reply)
    assert note is not None and note.post_id is not None
    assert note.context == f"{object_id}/context"


async def test_a_context_another_comment_carried_attaches_a_broken_reply(
    network: Network,
) -> None:
    # Given alice's reply to ben's post, carrying her server's own conversation id
    object_id = await network.post()
    conversation = "https://mastodon.example/contexts/17"
    first = await _send_reply(network, network.mastodon, "alice", object_id, context=conversation)
    # When bob replies to something lost, in the same conversation
    missing = network.mastodon.new_id("carol")
    second = await _send_reply(network, network.mastodon, "bob", missing, context=conversation)
    # Then bob's reply joins the same post
    post = await _comment_post(network, first)
    assert post is not None
    assert await _comment_post(network, second) == post


async def test_a_broken_reply_with_an_unknown_context_is_dropped(network: Network) -> None:
    await network.post()
    missing = network.mastodon.new_id("bob")

    reply = await _send_reply(
        network, network.mastodon, "alice", missing, context="https://mastodon.example/contexts/9"
    )

    assert await network.node.store.note(reply) is None
    log = await network.node.store.log_entries(direction="inbound", outcome="dropped")
    assert any(entry["reason"] == "not a reply to anything of ours" for entry in log)
