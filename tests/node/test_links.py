"""Links with another node's Group, in process: the fake peers speak real HTTP to our app.

gts.example plays a linked node: its `community` is a Group, carol writes there. What a link
refuses (a node actor that is not a Group, an Announce from a node we are not linked with, an
announced object its origin does not vouch for) is logged with a reason and leaves nothing.
"""

from __future__ import annotations

from typing import Any

import pytest

from activitypub.keys import PrivateKey
from activitypub.signatures import sign_request
from node.moderation import rules as moderation
from node.network import links, shared_blocks
from node.storage import utcnow

from ..fediverse import PUBLIC
from .conftest import Network

OUR_GROUP = "https://conode.example/groups/community"
INBOX = "https://conode.example/inbox"


async def _inbound_log(net: Network, activity_id: str) -> dict[str, Any]:
    entries = await net.node.store.log_entries(direction="inbound")
    (entry,) = [e for e in entries if e["activity_id"] == activity_id]
    return entry


async def _follow_our_group(net: Network, name: str) -> dict[str, Any]:
    follow = net.other.follow(name, OUR_GROUP)
    response = await net.other.send(name, follow, INBOX)
    assert response.status_code == 202
    await net.drain()
    return follow


def _add_actor(net: Network, name: str, type_: str) -> None:
    net.other.add_user(name)
    net.other.actor_types[name] = type_


async def _linked(net: Network) -> int:
    """gts.example's Group asks to link and our admin approves."""
    _add_actor(net, "community", "Group")
    await _follow_our_group(net, "community")
    (pending,) = await net.node.store.links("pending")
    link = await links.approve_link(net.node, pending.id)
    await net.drain()
    return link.id


def _article(net: Network, name: str = "carol", **changes: Any) -> dict[str, Any]:
    object_id = net.other.new_id(name)
    document = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": object_id,
        "type": "Article",
        "name": "Allotment open day",
        "summary": "Come and see the plots",
        "content": "<p>All welcome <script>alert(1)</script></p>",
        "attributedTo": net.other.actor_id(name),
        "published": utcnow().isoformat(),
        "to": [PUBLIC],
        "cc": [f"{net.other.actor_id(name)}/followers"],
    }
    document.update(changes)
    net.other.objects[object_id] = document
    return document


async def _announce(net: Network, obj: Any, name: str = "community") -> str:
    activity = net.other.simple(name, "Announce", obj)
    response = await net.other.send(name, activity, INBOX)
    assert response.status_code == 202
    await net.drain()
    return str(activity["id"])


async def test_a_group_asking_to_link_waits_for_an_admin_and_a_person_is_accepted_at_once(
    network: Network,
) -> None:
    # Given carol (a Person) and gts.example's Group both follow our Group
    from .web import add_member

    await add_member(network.node.store, network.node.settings, "mia", admin=True)
    _add_actor(network, "community", "Group")
    person = await _follow_our_group(network, "carol")
    group = await _follow_our_group(network, "community")

    # Then carol is accepted at once, and the Group's follow waits as a pending link
    assert (await _inbound_log(network, person["id"]))["outcome"] == "accepted"
    held = await _inbound_log(network, group["id"])
    assert held["outcome"] == "held"
    assert "conode links approve 1" in held["reason"]
    accepted = [a["object"]["id"] for a in network.other.received("Accept")]
    assert accepted == [person["id"]]
    (link,) = await network.node.store.links()
    assert (link.state, link.actor_id) == ("pending", network.other.actor_id("community"))
    # And the admin is told of the request, once
    mia = await network.node.store.local_actor("mia")
    assert mia is not None
    told = await network.node.store.notifications_of(mia.id)
    assert [(n["kind"], n["actor_id"]) for n in told] == [("link_request", link.actor_id)]

    # When our admin approves
    await links.approve_link(network.node, link.id)
    await network.drain()
    # Then the Group's follow is accepted and ours is sent back: the link is mutual
    assert group["id"] in [a["object"]["id"] for a in network.other.received("Accept")]
    (follow_back,) = network.other.received("Follow")
    assert (follow_back["actor"], follow_back["object"]) == (OUR_GROUP, link.actor_id)
    assert (await network.node.store.link(link.id)).state == "linked"  # type: ignore[union-attr]


async def test_a_link_request_from_an_actor_that_is_not_a_group_is_dropped(
    network: Network,
) -> None:
    # Given gts.example's node actor (an Application) follows our Group
    _add_actor(network, "relay", "Application")
    follow = await _follow_our_group(network, "relay")

    # Then it is dropped with its reason, and neither a follower nor a link is stored
    entry = await _inbound_log(network, follow["id"])
    assert entry["outcome"] == "dropped"
    assert "nodes link Group to Group" in entry["reason"]
    group = await network.node.store.local_actor("community")
    assert group is not None
    assert await network.node.store.follower_count(group.id) == 0
    assert await network.node.store.links() == []
    assert network.other.received("Accept") == []


async def test_an_announce_from_a_node_that_is_not_linked_is_dropped(network: Network) -> None:
    article = _article(network)
    activity_id = await _announce(network, article["id"], name="carol")

    entry = await _inbound_log(network, activity_id)
    assert entry["outcome"] == "dropped"
    assert "gts.example, which is not a linked node" in entry["reason"]
    assert await network.node.store.linked_post(article["id"]) is None


async def test_a_linked_node_shares_a_post_and_our_group_passes_it_on_once(
    network: Network,
) -> None:
    # Given alice follows our Group and gts.example is linked
    follow = network.mastodon.follow("alice", OUR_GROUP)
    await network.mastodon.send("alice", follow, INBOX)
    await _linked(network)
    article = _article(network)

    # When its Group announces carol's post twice
    first = await _announce(network, article["id"])
    second = await _announce(network, article["id"])

    # Then the post is kept (sanitised) with its origin, and alice gets one Announce from us
    assert (await _inbound_log(network, first))["outcome"] == "accepted"
    assert (await _inbound_log(network, second))["outcome"] == "duplicate"
    kept = await network.node.store.linked_post(article["id"])
    assert kept is not None
    assert (kept.origin_actor_id, kept.via_actor_id) == (
        network.other.actor_id("carol"),
        network.other.actor_id("community"),
    )
    assert "<script>" not in kept.document
    boosts = [a for a in network.mastodon.received("Announce") if a["object"] == article["id"]]
    assert [b["actor"] for b in boosts] == [OUR_GROUP]
    # And nothing is sent back to the node it came from
    assert [a for a in network.other.received("Announce") if a["object"] == article["id"]] == []


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("gone", "announced object's origin does not answer"),
        ("foreign author", "fetched copy's author is not on the object's host"),
        ("other author announced", "fetched copy differs in author from what was announced"),
        ("other id", "fetched copy has another id than the one announced"),
        ("followers only", "announced object is not public"),
        ("reply", "announced object is a reply, not a post"),
    ],
)
async def test_an_announced_object_its_origin_does_not_vouch_for_is_dropped(
    network: Network, case: str, reason: str
) -> None:
    await _linked(network)
    article = _article(network)
    announced: Any = article["id"]
    if case == "gone":
        del network.other.objects[article["id"]]
    elif case == "foreign author":
        article["attributedTo"] = network.mastodon.actor_id("alice")
    elif case == "other author announced":
        announced = {"id": article["id"], "attributedTo": network.other.actor_id("dave")}
    elif case == "other id":
        article["id"] = network.other.new_id("carol")
    elif case == "followers only":
        article["to"] = [f"{network.other.actor_id('carol')}/followers"]
    else:
        article["inReplyTo"] = network.mastodon.new_id("alice")

    activity_id = await _announce(network, announced)

    entry = await _inbound_log(network, activity_id)
    assert (entry["outcome"], entry["reason"].split(": fetch")[0]) == ("dropped", reason)
    assert await network.node.store.recent_linked_posts(limit=10) == []
    assert network.mastodon.received("Announce") == []


async def test_the_origin_s_update_and_delete_follow_a_linked_post(network: Network) -> None:
    follow = network.mastodon.follow("alice", OUR_GROUP)
    await network.mastodon.send("alice", follow, INBOX)
    await _linked(network)
    article = _article(network)
    await _announce(network, article["id"])

    # When carol edits her post, then deletes it
    edited = dict(article, name="Allotment open day (moved to Sunday)")
    update = network.other.simple("carol", "Update", edited)
    await network.other.send("carol", update, INBOX)
    await network.drain()
    kept = await network.node.store.linked_post(article["id"])
    assert kept is not None and "moved to Sunday" in kept.document

    delete = network.other.simple("carol", "Delete", {"id": article["id"], "type": "Tombstone"})
    await network.other.send("carol", delete, INBOX)
    await network.drain()
    assert (await _inbound_log(network, delete["id"]))["reason"] == (
        "linked post deleted at its origin"
    )
    assert await network.node.store.recent_linked_posts(limit=10) == []
    # And we passed both on to our followers (nodes one hop away follow the origin through us)
    passed = [a["object"] for a in network.mastodon.received("Announce") if a["actor"] == OUR_GROUP]
    assert [(o if isinstance(o, str) else o["type"]) for o in passed] == [
        article["id"],
        "Update",
        "Delete",
    ]


async def test_a_passed_on_update_or_delete_is_taken_from_the_origin_not_the_announce(
    network: Network,
) -> None:
    await _linked(network)
    article = _article(network)
    await _announce(network, article["id"])
    group = network.other.actor_id("community")

    # When the linked Group passes on an Update whose embedded copy says something else
    forged = dict(article, content="<p>Send your bank details</p>")
    update = {"type": "Update", "actor": group, "id": f"{article['id']}#u", "object": forged}
    article["content"] = "<p>Now with a plant sale</p>"  # what the origin really serves now
    activity_id = await _announce(network, update)

    # Then the origin's copy is what we keep
    assert (await _inbound_log(network, activity_id))["outcome"] == "accepted"
    kept = await network.node.store.linked_post(article["id"])
    assert kept is not None
    assert "plant sale" in kept.document and "bank details" not in kept.document

    # When it passes on a Delete while the origin still serves the post, nothing changes
    delete = {"type": "Delete", "actor": group, "id": f"{article['id']}#d", "object": article["id"]}
    await _announce(network, delete)
    assert await network.node.store.linked_post(article["id"]) == kept
    # And once the origin answers 404, the post is gone here too
    del network.other.objects[article["id"]]
    await _announce(network, dict(delete, id=f"{article['id']}#d2"))
    assert await network.node.store.recent_linked_posts(limit=10) == []


async def _get_blocks(net: Network, signer: tuple[Any, str] | None) -> Any:
    url = "https://conode.example/network/blocks.json"
    headers = {"Accept": "application/json"}
    if signer is not None:
        server, name = signer
        key = PrivateKey(key_id=f"{server.actor_id(name)}#main-key", pem=server.users[name])
        headers |= sign_request("GET", url, {}, None, key)
    return await net.http.get(url, headers=headers)


async def test_our_domain_blocks_are_served_only_to_linked_nodes(network: Network) -> None:
    await moderation.block(network.node.store, "spam.example", "floods of ads")
    await moderation.block(network.node.store, network.mastodon.actor_id("bob"), "an actor")
    await _linked(network)

    assert (await _get_blocks(network, None)).status_code == 401
    assert (await _get_blocks(network, (network.mastodon, "alice"))).status_code == 403
    response = await _get_blocks(network, (network.other, "community"))
    assert response.status_code == 200
    assert sorted(response.json()["items"], key=str) == [
        {"actor": network.mastodon.actor_id("bob"), "reason": "an actor"},
        {"domain": "spam.example", "reason": "floods of ads"},
    ]


async def test_a_trusted_node_s_server_and_account_blocks_become_suggestions(
    network: Network,
) -> None:
    # Given a linked node we trust, whose block list names servers and accounts, some not ours
    # to apply (our own server, one of our members, the linked node itself) and some malformed
    link = await network.node.store.link(await _linked(network))
    assert link is not None
    await links.trust_moderation(network.node, link.id, trusted=True)
    bob = network.mastodon.actor_id("bob")
    network.other.objects["https://gts.example/network/blocks.json"] = {
        "items": [
            {"domain": "spam.example", "reason": "floods of ads"},
            {"actor": bob, "reason": "harassment, reported twice"},
            {"domain": "conode.example", "reason": "us"},
            {"actor": "https://conode.example/users/ben", "reason": "our member"},
            {"domain": "gts.example", "reason": "itself"},
            {"domain": "https://not.a.domain/x", "reason": "an actor named as a domain"},
            {"actor": 42},
            "nonsense",
        ]
    }

    # When the link check reads it
    new = await shared_blocks.take_blocks(network.node, link)

    # Then the server and the account become suggestions, nothing is blocked yet
    assert new == 2
    suggested = await shared_blocks.open_suggestions(network.node)
    assert sorted(s["target"] for s in suggested) == sorted(["spam.example", bob])
    assert await network.node.store.blocks() == []
    # And once an admin confirms the account block, it is no longer suggested
    await moderation.block(network.node.store, bob, "confirmed")
    assert [s["target"] for s in await shared_blocks.open_suggestions(network.node)] == [
        "spam.example"
    ]


async def test_link_requests_waiting_for_review_are_bounded(
    network: Network, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a Group of gts.example whose link request waits for our admin
    _add_actor(network, "community", "Group")
    await _follow_our_group(network, "community")
    # When a second Group of the same server asks too
    _add_actor(network, "other", "Group")
    second = await _follow_our_group(network, "other")
    # Then it is dropped with its reason: one node, one Group, one request
    entry = await _inbound_log(network, second["id"])
    assert entry["outcome"] == "dropped"
    assert "already waits (link 1)" in entry["reason"]
    assert [link.actor_id for link in await network.node.store.links()] == [
        network.other.actor_id("community")
    ]
    # And the same Group asking again is still held, not refused
    again = await _follow_our_group(network, "community")
    assert (await _inbound_log(network, again["id"]))["outcome"] == "held"
    # And when as many requests wait as the node allows in all, a further one is dropped
    monkeypatch.setattr(links, "MAX_PENDING_LINKS", 1)
    monkeypatch.setattr(links, "MAX_PENDING_LINKS_PER_HOST", 2)
    third = await _follow_our_group(network, "other")
    entry = await _inbound_log(network, third["id"])
    assert entry["outcome"] == "dropped" and "1 link requests already wait" in entry["reason"]
    assert len(await network.node.store.links("pending")) == 1


async def test_an_announce_from_a_node_whose_link_is_still_pending_is_dropped(
    network: Network,
) -> None:
    # Given gts.example's Group asked to link, and no admin has approved it yet
    _add_actor(network, "community", "Group")
    await _follow_our_group(network, "community")
    (link,) = await network.node.store.links()
    assert link.state == "pending"
    # When that Group announces a post, then it is dropped and nothing is kept
    article = _article(network)
    entry = await _inbound_log(network, await _announce(network, article["id"]))
    assert entry["outcome"] == "dropped"
    assert "which is not a linked node" in entry["reason"]
    assert await network.node.store.linked_post(article["id"]) is None


async def test_a_blocked_author_s_post_arriving_through_a_linked_node_is_dropped(
    network: Network,
) -> None:
    # Given gts.example is linked, and carol (an account there) is blocked here
    await _linked(network)
    await moderation.block(network.node.store, network.other.actor_id("carol"), "spam")
    # When its Group announces carol's post (the Group and the server are not blocked)
    article = _article(network)
    entry = await _inbound_log(network, await _announce(network, article["id"]))
    # Then it is dropped once its origin names the author, and nothing is kept
    assert (entry["outcome"], entry["reason"]) == (
        "dropped",
        "announced object's author or host is blocked here",
    )
    assert await network.node.store.linked_post(article["id"]) is None
