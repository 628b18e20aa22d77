"""/@name/hours: a member's balance, history and a monthly chart, for them and admins only."""

from __future__ import annotations

from node.offers import ledger, matching
from node.offers import proposals as offers
from node.storage import utcnow

from ..conftest import TEST_URL
from .conftest import Network
from .test_notifications import _offer
from .web import add_member, sign_in


async def _ann_gave_two_hours_to_alice(network: Network) -> None:
    await add_member(network.node.store, network.node.settings, "ann")
    object_id = await _offer(network, "ann")
    reply = network.mastodon.reply("alice", object_id, "I would love help with my garden")
    assert (await network.mastodon.send("alice", reply, f"{TEST_URL}/inbox")).status_code == 202
    await network.drain()
    _, offer = await offers.find_offer(network.node, object_id)
    ((response, _),) = await network.node.store.responses_to(offer.id)
    agreement = await matching.match(network.node, None, object_id, response.id)
    await ledger.complete(network.node, None, agreement.object_id, "2")
    await network.drain()


async def test_a_member_sees_their_balance_history_and_chart(network: Network) -> None:
    await _ann_gave_two_hours_to_alice(network)
    await sign_in(network.http, "ann")
    page = await network.http.get(f"{TEST_URL}/@ann/hours")
    assert page.status_code == 200, page.text
    main = page.text.split("<main", 1)[1]
    assert "Balance: +2 hours" in main
    assert "@alice@mastodon.example" in main and "Help in your garden" in main
    assert "<svg" in main and 'role="img"' in main and "given" in main
    assert "<script" not in main
    assert f"<title>{utcnow():%Y-%m}: 2 hours given</title>" in main
    # And the bars' words are in the page's language
    german = await network.http.get(f"{TEST_URL}/@ann/hours", headers={"Accept-Language": "de"})
    assert f"<title>{utcnow():%Y-%m}: 2 Stunden gegeben</title>" in german.text
    assert " hours " not in german.text.split("<svg", 1)[1].split("</svg>", 1)[0]


async def test_hours_are_for_the_member_and_admins_only(network: Network) -> None:
    await _ann_gave_two_hours_to_alice(network)
    store, settings = network.node.store, network.node.settings
    await add_member(store, settings, "bob")
    await add_member(store, settings, "mia", admin=True)
    assert (await network.http.get(f"{TEST_URL}/@ann/hours")).status_code == 303  # sign in
    await sign_in(network.http, "bob")
    assert (await network.http.get(f"{TEST_URL}/@ann/hours")).status_code == 403
    assert (await network.http.get(f"{TEST_URL}/@bob/hours")).status_code == 200
    await sign_in(network.http, "mia")
    admin_view = await network.http.get(f"{TEST_URL}/@ann/hours")
    assert admin_view.status_code == 200 and "Balance: +2 hours" in admin_view.text
    assert (await network.http.get(f"{TEST_URL}/@nobody/hours")).status_code == 404
