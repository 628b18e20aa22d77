"""Posting to the community from anywhere (FEP-1b12), through the real inbox: alice on a
Mastodon-shaped server follows our Group and addresses a post to it; carol (gts.example)
follows the Group and receives its Announce. Held while alice is new, announced once a
moderator approves (and at once after that); refused with a logged reason when it is not
public, when its author does not follow the Group, or when its server is blocked."""

from __future__ import annotations

from typing import Any

import pytest

from node.moderation import rules as moderation
from node.network import group_posts

from ..fediverse import PUBLIC, FakeServer
from .conftest import Network
from .test_links import INBOX, OUR_GROUP, _inbound_log


async def _follow_group(net: Network, server: FakeServer, name: str) -> None:
    follow = server.follow(name, OUR_GROUP)
    assert (await server.send(name, follow, INBOX)).status_code == 202
    await net.drain()


def _post_to_group(server: FakeServer, name: str, text: str, **changes: Any) -> dict[str, Any]:
    """A Mastodon post that mentions the Group: `@community@conode.example …`."""
    create = server.reply(name, OUR_GROUP, text, mention=(OUR_GROUP, "@community@conode.example"))
    note = create["object"]
    del note["inReplyTo"]
    note.update(changes)
    create.update({k: v for k, v in changes.items() if k in ("to", "cc")})
    return create


async def _send(
    net: Network, server: FakeServer, name: str, create: dict[str, Any]
) -> dict[str, Any]:
    assert (await server.send(name, create, INBOX)).status_code == 202
    await net.drain()
    return await _inbound_log(net, create["id"])


def _announced(server: FakeServer, object_id: str) -> list[dict[str, Any]]:
    return [
        a
        for a in server.received("Announce")
        if a["actor"] == OUR_GROUP and a["object"] == object_id
    ]


async def test_a_post_to_the_group_is_held_then_announced_to_its_followers(
    network: Network,
) -> None:
    # Given alice and carol follow the Group
    await _follow_group(network, network.mastodon, "alice")
    await _follow_group(network, network.other, "carol")
    # When alice, whom no moderator has approved yet, posts to the Group
    first = _post_to_group(network.mastodon, "alice", "Lost cat near the allotments")
    entry = await _send(network, network.mastodon, "alice", first)
    # Then it is held, and nobody gets an Announce yet
    assert (entry["outcome"], entry["reason"]) == ("held", "post to the group held for moderation")
    assert _announced(network.other, first["object"]["id"]) == []
    (held,) = await network.node.store.group_posts("pending")

    # When a moderator approves it
    approved = await group_posts.approve(network.node, held.id)
    await network.drain()
    # Then the Group announces it to carol (its id, as Mastodon reads), not to alice's server
    assert approved.status == "approved" and approved.announced_at is not None
    (boost,) = _announced(network.other, first["object"]["id"])
    assert PUBLIC in boost["to"] and f"{OUR_GROUP}/followers" in boost["cc"]
    assert _announced(network.mastodon, first["object"]["id"]) == []

    # And alice's next post, addressed by audience only, is announced at once
    second = _post_to_group(
        network.mastodon, "alice", "Found her", tag=[], audience=OUR_GROUP, cc=[]
    )
    entry = await _send(network, network.mastodon, "alice", second)
    assert entry["outcome"] == "accepted", entry
    assert len(_announced(network.other, second["object"]["id"])) == 1

    # When alice deletes it, it is forgotten here
    delete = network.mastodon.simple("alice", "Delete", second["object"]["id"])
    assert (await network.mastodon.send("alice", delete, INBOX)).status_code == 202
    await network.drain()
    assert (await network.node.store.group_post(second["object"]["id"])).status == "deleted"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("not following", "post to the group from an account that does not follow it"),
        ("followers only", "post to the group is not public: the group shares only public posts"),
    ],
)
async def test_posts_the_group_does_not_take_are_refused_with_a_reason(
    network: Network, case: str, reason: str
) -> None:
    await _follow_group(network, network.other, "carol")
    changes: dict[str, Any] = {}
    if case == "followers only":
        await _follow_group(network, network.mastodon, "alice")
        followers = f"{network.mastodon.actor_id('alice')}/followers"
        changes = {"to": [followers], "cc": [OUR_GROUP]}
    create = _post_to_group(network.mastodon, "alice", "Not for everyone", **changes)

    entry = await _send(network, network.mastodon, "alice", create)

    assert (entry["outcome"], entry["reason"]) == ("dropped", reason)
    assert await network.node.store.group_posts() == []
    assert _announced(network.other, create["object"]["id"]) == []


async def test_a_post_to_the_group_from_a_blocked_server_is_refused_and_logged(
    network: Network,
) -> None:
    # Given alice follows the Group and carol too; alice posts and is held
    await _follow_group(network, network.mastodon, "alice")
    await _follow_group(network, network.other, "carol")
    held = _post_to_group(network.mastodon, "alice", "Buy cheap watches")
    assert (await _send(network, network.mastodon, "alice", held))["outcome"] == "held"
    # When a moderator blocks her server
    await moderation.block(network.node.store, "mastodon.example", "spam")
    # Then her next post to the Group is refused, and the log says why
    create = _post_to_group(network.mastodon, "alice", "Buy more watches")
    assert (await network.mastodon.send("alice", create, INBOX)).status_code == 202
    await network.drain()
    entry = await _inbound_log(network, create["id"])
    assert (entry["outcome"], entry["reason"]) == ("dropped", "dropped: blocked")
    assert await network.node.store.group_post(create["object"]["id"]) is None
    # And the held one cannot be approved any more
    (pending,) = await network.node.store.group_posts("pending")
    with pytest.raises(group_posts.GroupPostError, match="blocked"):
        await group_posts.approve(network.node, pending.id)
    await network.drain()
    assert _announced(network.other, held["object"]["id"]) == []
