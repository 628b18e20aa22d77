"""The hours exchange of a move between linked nodes (node/network/moving_hours.py), each check
where it is enforced: the new node takes an Offer of hours only from a linked node, for the
sender's own move to a member that lists it, when the old account says it moved there; the old
node closes the account only on the new account's Accept of the agreement it offered."""

from __future__ import annotations

from typing import Any

import pytest

from activitypub import marketplace
from node.accounts import moving
from node.federation.actors import local_actor
from node.offers.exchanges import ledger_entries
from node.storage import LocalActorRow

from ..conftest import TEST_URL
from ..fediverse import FakeServer
from .conftest import Network

BEN = f"{TEST_URL}/users/ben"
SHARED_INBOX = f"{TEST_URL}/inbox"


async def _link(network: Network) -> None:
    """mastodon.example stands in for a linked conode node (its Group, both admins agreed)."""
    host = network.mastodon.host
    await network.node.store.save_link(
        f"https://{host}/groups/community",
        host=host,
        inbox_url=f"https://{host}/inbox",
        state="linked",
    )


def _hours_offer(peer: FakeServer, old: str, new: str, hours: str = "3", **changes: Any) -> Any:
    """The Offer an old node sends: its agreement moves `hours` from old to new."""
    old_id = peer.actor_id(old)
    move = peer.move(old, new) | changes.pop("move", {})
    token = move["id"].rsplit("/", 1)[-1]
    agreement_id = changes.pop("agreement_id", f"{peer.base_url}/agreements/move-{token}")
    provider, receiver = changes.pop("parties", (new, old_id))
    satisfies = changes.pop("satisfies", move["id"])
    info = marketplace.AgreementInfo(agreement_id, satisfies, provider, receiver, hours)
    offer = peer.simple(old, "Offer", marketplace.agreement(info))
    return offer | {"instrument": move, "target": new} | changes


async def _log(network: Network, type_: str) -> list[tuple[str, str]]:
    entries = await network.node.store.log_entries(direction="inbound")
    return [(e["outcome"], e["reason"]) for e in entries if e["type"] == type_]


async def _balance(network: Network, account: str) -> int:
    return await network.node.store.ledger_balance(account)


async def test_hours_move_here_only_as_the_move_says(network: Network) -> None:
    peer = network.mastodon
    alice = peer.actor_id("alice")
    # Given ben lists alice in alsoKnownAs, but no link with her node exists yet
    await moving.add_alias(network.node, await _row(network), alice)
    await peer.send("alice", _hours_offer(peer, "alice", BEN), SHARED_INBOX)
    await network.drain()
    # And, once linked, offers that break one rule each
    await _link(network)
    bob = peer.actor_id("bob")
    for sender, offer in (
        ("alice", _hours_offer(peer, "alice", BEN)),  # her actor has no movedTo yet
        ("bob", _hours_offer(peer, "bob", BEN)),  # ben does not list bob
        ("alice", _hours_offer(peer, "alice", BEN, move={"object": bob})),
        ("alice", _hours_offer(peer, "alice", BEN, parties=(BEN, bob))),
        ("alice", _hours_offer(peer, "alice", BEN, hours="-1")),
        ("alice", _hours_offer(peer, "alice", f"{TEST_URL}/users/nobody")),
        ("alice", _hours_offer(peer, "alice", BEN, move={"target": bob})),
        ("alice", _hours_offer(peer, "alice", BEN, agreement_id=f"{TEST_URL}/agreements/x")),
        ("alice", _hours_offer(peer, "alice", BEN, satisfies=f"{peer.base_url}/other")),
    ):
        await peer.send(sender, offer, SHARED_INBOX)
        await network.drain()
        peer.moved_to["alice"] = BEN  # from the second offer on, her actor says she moved
    assert await _log(network, "Offer") == [
        ("dropped", "hours moved from a node we are not linked with"),
        ("dropped", f"{alice} does not say it moved to {BEN}"),
        ("dropped", f"move refused: {BEN} does not list {bob} in alsoKnownAs"),
        ("dropped", "hours offered for a move that is not the sender's own"),
        ("dropped", "agreement parties are not the old and the new account"),
        ("dropped", "the hours moved must be a positive number of quarter hours"),
        ("dropped", "hours moved to an account that is not a member here"),
        ("dropped", "hours offered for a move to another account"),
        ("dropped", "agreement id is not on the old account's host"),
        ("dropped", "agreement does not name the move"),
    ]
    assert await network.node.store.ledger_total() == 0
    assert await _balance(network, BEN) == 0
    # When a good one arrives (twice: a second delivery writes nothing)
    offer = _hours_offer(peer, "alice", BEN)
    for activity_id in (offer["id"], offer["id"] + "-again"):
        await peer.send("alice", offer | {"id": activity_id}, SHARED_INBOX)
    await network.drain()
    # Then ben opens with alice's three hours, alice's account closes here, and ben Accepts
    assert (await _log(network, "Offer"))[-2:] == [
        ("accepted", f"hours moved here from @alice@{peer.host}: opening entry written"),
        ("duplicate", "hours of this move already written"),
    ]
    assert (await _balance(network, BEN), await _balance(network, alice)) == (180, -180)
    (accept,) = peer.received("Accept")
    assert (accept["actor"], accept["object"], accept["result"]["id"]) == (
        BEN, offer["id"], offer["object"]["id"]
    )  # fmt: skip


async def _row(network: Network) -> LocalActorRow:
    row = await network.node.store.local_actor("ben")
    assert row is not None
    return row


async def _give_ben_hours(network: Network, minutes: int) -> None:
    store = network.node.store
    carol = network.other.actor_id("carol")
    agreement = await store.insert_agreement(
        object_id=f"{TEST_URL}/agreements/earlier",
        offer_id=None,
        response_id=None,
        proposal_id=f"{TEST_URL}/posts/earlier",
        title="Earlier help",
        proposer_id=BEN,
        provider_id=BEN,
        receiver_id=carol,
        minutes=minutes,
    )
    entries = await ledger_entries(network.node, BEN, carol, minutes)
    assert await store.complete_agreement(agreement.id, minutes, entries)


@pytest.mark.parametrize("linked", [True, False])
async def test_the_old_node_closes_the_account_on_the_new_accounts_accept(
    network: Network, linked: bool
) -> None:
    peer, node = network.mastodon, network.node
    new = peer.add_user("ben2")
    peer.also_known_as["ben2"] = [BEN]
    # Given ben gave carol 1.5 hours, and his new account is on a node we are (not) linked with
    await _give_ben_hours(network, 90)
    if linked:
        await _link(network)
    # When he moves
    moved = await moving.move(node, await _row(network), new)
    await network.drain()
    # Then hours are offered only to a linked node
    offers = peer.received("Offer")
    if not linked:
        assert (moved.minutes, offers) == (None, [])
        return
    (offer,) = offers
    assert (moved.minutes, offer["actor"], offer["target"]) == (90, BEN, new)
    assert offer["instrument"]["id"] == moved.move_id
    terms = marketplace.read_offer(offer)
    assert (terms.provider_id, terms.receiver_id, terms.value) == (new, BEN, "1.5")
    agreement = offer["object"]
    # When someone else accepts, or ben2 accepts another agreement: nothing is written
    wrong = agreement | {"id": f"{peer.base_url}/agreements/other"}
    for sender, result in (("bob", agreement), ("ben2", wrong), ("ben2", agreement)):
        accept = marketplace.accept_offer(
            peer.new_id(sender), peer.actor_id(sender), offer["id"], result, BEN
        )
        await peer.send(sender, accept, SHARED_INBOX)
        await network.drain()
        if sender == "bob":
            assert await _balance(network, BEN) == 90  # the closing entry waits
    # Then only ben2's Accept of the offered agreement closes ben's account
    accepts = await _log(network, "Accept")
    assert accepts == [
        ("dropped", "accept by someone other than the account our member moved to"),
        ("dropped", "accepted agreement is not the one we offered"),
        ("accepted", f"hours moved to {new}: closing entry written"),
    ]
    assert (await _balance(network, BEN), await _balance(network, new)) == (0, 90)
    assert await node.store.ledger_total() == 0
    # And ben's history names the new account on its node
    history = await node.store.ledger_history(BEN)
    assert history[-1]["title"] == f"Moved from @ben@conode.example to @ben2@{peer.host}"
    assert local_actor(node.settings, await _row(network)).row.moved_to == new
