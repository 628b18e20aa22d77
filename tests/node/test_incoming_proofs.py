"""Incoming FEP-8b32 proofs, through the real inbox: a linked node's Announce whose embedded
object carries its author's valid proof is taken without asking the origin (which may be down);
a tampered or foreign proof is refused with a logged reason, and the origin's own copy decides.
Objects are signed by the independent eddsa-jcs-2022 implementation (tests/independent_proofs.py).

gts.example is the linked node (its `community` Group); dana writes on origin.example, a third
server whose objects are not served (404): only the proof can vouch for them.
"""

from __future__ import annotations

import copy
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from node.network import links
from node.storage import utcnow

from .. import independent_proofs
from ..fediverse import PUBLIC, FakeServer
from .conftest import Network
from .test_links import INBOX, OUR_GROUP, _inbound_log, _linked

AP = {"Accept": "application/activity+json"}


def _origin(net: Network) -> FakeServer:
    origin = FakeServer("origin.example", net.fediverse)
    origin.add_user("dana")
    origin.multikeys["dana"] = Ed25519PrivateKey.generate()
    return origin


def _signed_article(server: FakeServer, name: str, *, serve: bool = False) -> dict[str, Any]:
    actor = server.actor_id(name)
    article = {
        "@context": [
            "https://www.w3.org/ns/activitystreams",
            "https://w3id.org/security/data-integrity/v1",
        ],
        "id": server.new_id(name),
        "type": "Article",
        "name": "Repair café on Saturday",
        "content": "<p>Bring what is broken.</p>",
        "attributedTo": actor,
        "published": utcnow().isoformat(),
        "to": [PUBLIC],
        "cc": [f"{actor}/followers"],
    }
    signed = independent_proofs.sign(article, server.multikeys[name], f"{actor}#ed25519-key")
    if serve:
        server.objects[article["id"]] = signed
    return signed


async def _announced(net: Network, obj: Any) -> dict[str, Any]:
    activity = net.other.simple("community", "Announce", obj)
    assert (await net.other.send("community", activity, INBOX)).status_code == 202
    await net.drain()
    return await _inbound_log(net, str(activity["id"]))


def _key(server: FakeServer, name: str) -> Any:
    return server.multikeys[name].public_key()


async def test_a_proven_object_is_taken_without_its_origin_even_when_it_is_down(
    network: Network,
) -> None:
    # Given gts.example is linked, and dana on origin.example signs a post nobody serves
    await _linked(network)
    origin = _origin(network)
    article = _signed_article(origin, "dana")
    assert independent_proofs.verifies(article, _key(origin, "dana"))

    # When the linked Group announces it embedded
    entry = await _announced(network, article)

    # Then it is kept from the proof alone, as signed
    assert entry["outcome"] == "accepted", entry
    assert "from its author's proof" in entry["reason"]
    kept = await network.node.store.linked_post(article["id"])
    assert kept is not None and kept.signed_document is not None
    assert kept.origin_actor_id == origin.actor_id("dana")

    # When dana's server goes away entirely, a second proven post still arrives (cached key)
    origin.gone.add("dana")
    second = _signed_article(origin, "dana")
    entry = await _announced(network, second)
    assert entry["outcome"] == "accepted", entry
    assert await network.node.store.linked_post(second["id"]) is not None


async def test_a_tampered_object_is_refused_and_the_origin_decides(network: Network) -> None:
    # Given a linked node and dana's signed post, served by her server as she wrote it
    await _linked(network)
    origin = _origin(network)
    genuine = _signed_article(origin, "dana", serve=True)
    # When the linked node changes it and announces the changed copy
    tampered = copy.deepcopy(genuine)
    tampered["content"] = "<p>Send your bank details to the linked node</p>"
    assert not independent_proofs.verifies(tampered, _key(origin, "dana"))
    entry = await _announced(network, tampered)
    # Then our verifier refuses the proof too, the origin's copy is fetched and kept instead
    assert entry["outcome"] == "accepted", entry
    assert "proof refused: proof does not verify" in entry["reason"]
    assert "fetched from its origin" in entry["reason"]
    kept = await network.node.store.linked_post(genuine["id"])
    assert kept is not None
    assert "bank details" not in kept.document and "Bring what is broken" in kept.document

    # When the tampered post's origin does not serve it, it is dropped with both reasons
    unserved = _signed_article(origin, "dana")
    unserved["name"] = "Something else"
    entry = await _announced(network, unserved)
    assert entry["outcome"] == "dropped"
    assert "proof refused: proof does not verify" in entry["reason"]
    assert "origin does not answer" in entry["reason"]
    assert await network.node.store.linked_post(unserved["id"]) is None


async def test_a_proof_by_another_key_than_the_author_s_is_refused(network: Network) -> None:
    # Given a linked node, and a post attributed to dana but signed by mallory's key
    await _linked(network)
    origin = _origin(network)
    origin.add_user("mallory")
    origin.multikeys["mallory"] = Ed25519PrivateKey.generate()
    article = _signed_article(origin, "dana")
    mallory = origin.actor_id("mallory")
    forged = independent_proofs.sign(
        {k: v for k, v in article.items() if k != "proof"},
        origin.multikeys["mallory"],
        f"{mallory}#ed25519-key",
    )
    assert independent_proofs.verifies(forged, _key(origin, "mallory"))
    # And a post whose proof names dana's method but was made with mallory's key
    stolen = independent_proofs.sign(
        {k: v for k, v in _signed_article(origin, "dana").items() if k != "proof"},
        origin.multikeys["mallory"],
        f"{origin.actor_id('dana')}#ed25519-key",
    )

    # Then neither is taken (their origin does not serve them)
    entry = await _announced(network, forged)
    assert entry["outcome"] == "dropped"
    assert "proof refused: the proof is not by the object's author" in entry["reason"]
    entry = await _announced(network, stolen)
    assert entry["outcome"] == "dropped"
    assert "proof refused: proof does not verify" in entry["reason"]


async def _second_link(net: Network) -> FakeServer:
    """third.example's Group links with ours too (it asks, our admin approves)."""
    third = FakeServer("third.example", net.fediverse, actor_types={"community": "Group"})
    third.add_user("community")
    follow = third.follow("community", OUR_GROUP)
    assert (await third.send("community", follow, INBOX)).status_code == 202
    await net.drain()
    (pending,) = await net.node.store.links("pending")
    await links.approve_link(net.node, pending.id)
    await net.drain()
    return third


async def test_a_proven_post_from_the_linked_node_is_passed_on_with_its_proof(
    network: Network,
) -> None:
    # Given alice follows our Group, another node links with it, and carol on the linked node
    # signs her posts
    follow = network.mastodon.follow("alice", OUR_GROUP)
    await network.mastodon.send("alice", follow, INBOX)
    await _linked(network)
    third = await _second_link(network)
    network.other.multikeys["carol"] = Ed25519PrivateKey.generate()
    article = _signed_article(network.other, "carol")
    # When the linked Group announces it
    entry = await _announced(network, article)
    assert entry["outcome"] == "accepted", entry
    # Then our Group passes it on to the other node embedded, with carol's proof intact
    (boost,) = [a for a in third.received("Announce") if a["actor"] == OUR_GROUP]
    assert boost["object"]["id"] == article["id"]
    assert independent_proofs.verifies(boost["object"], _key(network.other, "carol"))
    # And to alice (Mastodon) by its id, as before
    (plain,) = [a for a in network.mastodon.received("Announce") if a["actor"] == OUR_GROUP]
    assert plain["object"] == article["id"] and plain["id"] == boost["id"]
    # And our Group's outbox carries it the same way, for a node catching up
    outbox = (await network.http.get(f"{OUR_GROUP}/outbox?page=1", headers=AP)).json()
    (item,) = [i for i in outbox["orderedItems"] if isinstance(i["object"], dict)]
    assert independent_proofs.verifies(item["object"], _key(network.other, "carol"))


async def test_an_inbox_activity_with_a_bad_proof_is_refused(network: Network) -> None:
    # Given alice signs her objects, and ben published a post
    mastodon = network.mastodon
    mastodon.multikeys["alice"] = Ed25519PrivateKey.generate()
    post = await network.post()
    alice = mastodon.actor_id("alice")
    method = f"{alice}#ed25519-key"

    def reply_with_proof(text: str) -> dict[str, Any]:
        create = mastodon.reply("alice", post, text)
        create["object"] = independent_proofs.sign(
            create["object"], mastodon.multikeys["alice"], method
        )
        return create

    # When her reply arrives with a valid proof, it is taken
    good = reply_with_proof("Thanks for the report")
    assert (await mastodon.send("alice", good, INBOX)).status_code == 202
    await network.drain()
    assert (await _inbound_log(network, good["id"]))["outcome"] != "dropped"

    # When a reply's content no longer matches its proof, it is refused with the reason
    bad = reply_with_proof("Thanks again")
    bad["object"]["content"] = "<p>Changed after signing</p>"
    assert (await mastodon.send("alice", bad, INBOX)).status_code == 202
    await network.drain()
    entry = await _inbound_log(network, bad["id"])
    assert entry["outcome"] == "dropped"
    assert entry["reason"] == "the object's proof is refused: proof does not verify"
    assert await network.node.store.note(bad["object"]["id"]) is None

    # And an activity whose own proof fails is refused too
    signed = independent_proofs.sign(reply_with_proof("Third"), mastodon.multikeys["alice"], method)
    signed["cc"] = []
    assert (await mastodon.send("alice", signed, INBOX)).status_code == 202
    await network.drain()
    entry = await _inbound_log(network, signed["id"])
    assert entry["reason"] == "the activity's proof is refused: proof does not verify"
