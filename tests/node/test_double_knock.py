"""RFC 9421 first, draft-cavage when refused, remembered per host (double-knocking), against
Mastodon-shaped peers that read only one scheme each, through the real inbox and worker."""

from __future__ import annotations

from datetime import timedelta

from activitypub.auth import CAVAGE, RFC9421
from node.federation import knocking
from node.storage import utcnow

from ..conftest import TEST_URL
from ..fediverse import FakeServer
from .conftest import Network

BEN = f"{TEST_URL}/users/ben"
SHARED_INBOX = f"{TEST_URL}/inbox"


async def _followed_by(network: Network, server: FakeServer, name: str) -> None:
    response = await server.send(name, server.follow(name, BEN), SHARED_INBOX)
    assert response.status_code == 202, response.text
    await network.drain()


async def test_peers_reading_one_scheme_each_get_every_delivery_and_one_second_knock(
    network: Network,
) -> None:
    # Given a peer that reads only RFC 9421 and one that reads only draft-cavage, both in
    # secure mode (our key fetches must be signed too), each following ben
    new = FakeServer("new.example", network.fediverse, accepts=RFC9421)
    old = FakeServer("old.example", network.fediverse, accepts=CAVAGE)
    new.add_user("dana")
    old.add_user("eve")
    await _followed_by(network, new, "dana")
    await _followed_by(network, old, "eve")
    # When ben publishes three posts and the worker delivers everything in one go
    for number in range(3):
        await network.post(title=f"Report {number}")
    await network.drain()
    # Then each peer received the Accept and all three Creates, none refused in the end
    for peer in (new, old):
        assert len(peer.received("Accept")) == 1, peer.refused
        assert len(peer.received("Create")) == 3, peer.refused
    # and the draft-cavage peer saw exactly one RFC 9421 attempt (the key fetch while its
    # Follow was verified); the RFC 9421 peer never saw draft-cavage
    assert old.knocks_with(RFC9421) == 1, old.knocks
    assert new.knocks_with(CAVAGE) == 0, new.knocks
    assert await knocking.known_schemes(network.node.store, ["new.example", "old.example"]) == {
        "new.example": RFC9421,
        "old.example": CAVAGE,
    }


async def test_a_batch_of_deliveries_to_a_new_host_knocks_twice_once(network: Network) -> None:
    # Given a draft-cavage peer whose user follows ben, and nothing yet known of it
    old = FakeServer("old.example", network.fediverse, accepts=CAVAGE)
    old.add_user("eve")
    await _followed_by(network, old, "eve")
    await network.node.store.remember_signature_schemes({"old.example": CAVAGE}, utcnow())
    old.knocks.clear()
    # (its memory has just expired)
    # When three deliveries to it go out in one pass of the worker
    for number in range(3):
        await network.post(title=f"Report {number}")
    await network.drain()
    # Then one of them knocked twice, the others once, with draft-cavage
    posts = [knock for knock in old.knocks if knock[0] == "POST"]
    assert [scheme for _, _, scheme in posts].count(RFC9421) == 1, posts
    assert len(old.received("Create")) == 3
    assert len(old.received("Accept")) == 1


async def test_the_memory_of_a_host_expires(network: Network) -> None:
    store = network.node.store
    now = utcnow()
    await knocking.remember(store, {"old.example": CAVAGE}, {}, now)

    soon = await knocking.known_schemes(store, ["old.example"], now + timedelta(days=29))
    later = await knocking.known_schemes(store, ["old.example"], now + timedelta(days=31))

    assert (soon, later) == ({"old.example": CAVAGE}, {})
