"""An inbound activity whose handler raises (here: the server of a note it replies to breaks
mid-fetch in a way no handler expects) is left queued for the next pass, not marked done, and is
acted on once that server recovers."""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from node.inbound import activities

from ..fediverse import PUBLIC
from .conftest import Network

SHARED_INBOX = "https://conode.example/inbox"


async def test_an_activity_whose_handler_raises_stays_queued_and_is_retried(
    network: Network,
) -> None:
    store = network.node.store
    post_id = await network.post()
    # Given fay's note on flaky.example answers our post, and flaky.example is broken for now
    parent = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": "https://flaky.example/notes/1",
        "type": "Note",
        "attributedTo": "https://flaky.example/users/fay",
        "inReplyTo": post_id,
        "to": [PUBLIC],
        "content": "<p>fay's answer</p>",
        "published": datetime.now(UTC).isoformat(),
    }
    broken = True

    async def note(request: Request) -> Response:
        if broken:
            raise RuntimeError("flaky.example fell over mid-answer")
        return JSONResponse(parent, media_type="application/activity+json")

    network.fediverse.add("flaky.example", Starlette(routes=[Route("/notes/1", note)]))
    # When alice's reply to fay's note arrives and the worker acts on it once
    reply = network.mastodon.reply("alice", parent["id"], "alice answers fay")
    assert (await network.mastodon.send("alice", reply, SHARED_INBOX)).status_code == 202
    assert await activities.process_queued(network.node) == 1
    # Then it is still queued, not done, and no outcome is logged for it yet
    assert (await store.count_inbound("queued"), await store.count_inbound("done")) == (1, 0)
    logged = await store.log_entries(direction="inbound")
    assert [e for e in logged if e["activity_id"] == reply["id"] and e["outcome"] != "queued"] == []
    assert await store.note(reply["object"]["id"]) is None
    # When flaky.example recovers, the next pass acts on it
    broken = False
    await network.drain()
    assert (await store.count_inbound("queued"), await store.count_inbound("done")) == (0, 1)
    assert await store.note(reply["object"]["id"]) is not None
