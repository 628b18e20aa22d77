"""The offers board as a page (filters: kind, category, open/closed), offers on the home page,
and members managing their offers from the web (match, close, complete) through the same
node/offers/proposals.py, matching.py and ledger.py the command line uses."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any

import httpx

from node.accounts.passwords import hash_password
from node.content import publishing
from node.federation.actors import local_actor
from node.offers import proposals as offers

from ..conftest import TEST_URL
from .conftest import Network
from .web import PASSWORD, add_member, sign_in, token

BEN = f"{TEST_URL}/users/ben"


async def _offer(net: Network, kind: str, title: str, **terms: Any) -> str:
    row = await net.node.store.local_actor("ben")
    assert row is not None
    draft = publishing.Draft(kind, title, "Details.")
    values = {"category": "gardening", "hours": "2"} | terms
    post = await offers.create_offer(
        net.node, local_actor(net.node.settings, row), draft, offers.OfferDraft(**values)
    )
    return publishing.post_id(net.node, post)


def _titles(page: httpx.Response) -> list[str]:
    assert page.status_code == 200, page.text
    return re.findall(r'class="offer-title"><a href="[^"]+">([^<]+)</a>', page.text)


async def test_the_board_filters_by_kind_category_and_state(network: Network) -> None:
    await _offer(network, "offer", "Weeding")
    await _offer(network, "request", "A lift to the clinic", category="lifts")
    closed = await _offer(network, "offer", "Old pruning offer")
    await offers.close(network.node, None, closed, "withdrawn")
    board = f"{TEST_URL}/offers"
    assert set(_titles(await network.http.get(board))) == {"Weeding", "A lift to the clinic"}
    assert _titles(await network.http.get(f"{board}?kind=request")) == ["A lift to the clinic"]
    assert _titles(await network.http.get(f"{board}?category=gardening")) == ["Weeding"]
    assert _titles(await network.http.get(f"{board}?state=closed")) == ["Old pruning offer"]
    everything = await network.http.get(f"{board}?state=all&kind=offer")
    assert set(_titles(everything)) == {"Weeding", "Old pruning offer"}
    # Nonsense filters are ignored, not errors; other nodes still get the collection
    assert (await network.http.get(f"{board}?kind=<x>&category=nope")).status_code == 200
    as_json = await network.http.get(board, headers={"Accept": "application/activity+json"})
    assert as_json.json()["type"] == "OrderedCollection"


async def test_the_home_page_lists_open_offers_and_requests(network: Network) -> None:
    await _offer(network, "offer", "Weeding")
    await _offer(network, "request", "A lift to the clinic", category="lifts")
    closed = await _offer(network, "offer", "Old pruning offer")
    await offers.close(network.node, None, closed, "withdrawn")
    titles = _titles(await network.http.get(f"{TEST_URL}/"))
    assert set(titles) == {"Weeding", "A lift to the clinic"}


async def _manage(net: Network, object_id: str, **form: str) -> httpx.Response:
    path = object_id.removeprefix(TEST_URL)
    fields = {"csrf": await token(net.http, path)} | form
    return await net.http.post(f"{object_id}/offer", data=fields)


async def test_a_member_matches_a_reply_and_completes_the_exchange_from_the_web(
    network: Network,
) -> None:
    # Given ben's offer and alice's reply from Mastodon
    await add_member(network.node.store, network.node.settings, "ann")
    object_id = await _offer(network, "offer", "Weeding")
    reply = network.mastodon.reply("alice", object_id, "Saturday?", mention=(BEN, "@ben"))
    await network.mastodon.send("alice", reply, f"{TEST_URL}/inbox")
    await network.drain()
    _, offer = await offers.find_offer(network.node, object_id)
    ((response, _),) = await network.node.store.responses_to(offer.id)
    # A member who is not its author sees no controls and cannot act
    await sign_in(network.http, "ann")
    page = await network.http.get(object_id)
    assert "Match" not in page.text
    refused = await _manage(network, object_id, action="match", response=str(response.id))
    assert refused.status_code == 403
    await network.http.post(f"{TEST_URL}/logout", data={"csrf": await token(network.http)})
    # When ben signs in, matches the reply, then completes with 1.5 hours
    ben = await network.node.store.local_actor("ben")
    assert ben is not None
    await network.node.store.update_account(ben.id, password_hash=hash_password(PASSWORD))
    await sign_in(network.http, "ben")
    assert "Saturday?" in (await network.http.get(object_id)).text
    matched = await _manage(network, object_id, action="match", response=str(response.id))
    assert matched.status_code == 303, matched.text
    (agreement,) = await network.node.store.agreements(offer_id=offer.id)
    done = await _manage(
        network, object_id, action="complete", agreement=agreement.object_id, hours="1.5"
    )
    assert done.status_code == 303, done.text
    await network.drain()
    # Then the ledger has it and alice's server heard of the match
    _, after = await offers.find_offer(network.node, object_id)
    assert after.status == "fulfilled"
    assert await network.node.store.ledger_total() == 0
    (agreement,) = await network.node.store.agreements(offer_id=offer.id)
    assert agreement.status == "completed" and agreement.completed_minutes == 90
    assert network.mastodon.received("Accept")
    page = await network.http.get(object_id)
    assert "fulfilled" in page.text


async def test_closing_from_the_web_and_errors_shown_as_sentences(network: Network) -> None:
    object_id = await _offer(network, "request", "A lift", category="lifts")
    await add_member(network.node.store, network.node.settings, "mia", admin=True)
    await sign_in(network.http, "mia")  # an admin may act for any offer
    bad = await _manage(network, object_id, action="complete", agreement="x", hours="lots")
    assert bad.status_code == 400 and "must be a number of hours" in bad.text
    closed = await _manage(network, object_id, action="close", status="withdrawn")
    assert closed.status_code == 303
    _, offer = await offers.find_offer(network.node, object_id)
    assert offer.status == "withdrawn"
    again = await _manage(network, object_id, action="close", status="withdrawn")
    assert again.status_code == 400 and "already withdrawn" in again.text


async def test_a_member_writes_an_offer_with_its_terms_from_the_web(network: Network) -> None:
    await add_member(network.node.store, network.node.settings, "ann")
    await sign_in(network.http, "ann")
    form = {
        "csrf": await token(network.http),
        "kind": "offer",
        "title": "Bike repairs",
        "body": "Punctures, brakes, gears.",
        "hours": "1.5",
        "category": "DIY",
        "place": "The community shed",
        "action": "publish",
    }
    bad = await network.http.post(f"{TEST_URL}/write", data={**form, "hours": "lots"})
    assert bad.status_code == 400 and "must be a number of hours" in bad.text
    assert await network.node.store.offers_board() == []
    made = await network.http.post(f"{TEST_URL}/write", data=form)
    assert made.status_code == 303, made.text
    object_id = TEST_URL + made.headers["location"]
    note = await network.http.get(object_id, headers={"Accept": "application/activity+json"})
    assert note.json()["type"] == "Note"
    _, offer = await offers.find_offer(network.node, object_id)
    assert (offer.minutes, offer.category, offer.place) == (90, "DIY", "The community shed")
    page = await network.http.get(object_id)
    assert "1.5 hours" in page.text and "Manage this offer" in page.text
    # And its author edits it from the web: the Update goes out, the terms stay
    path = made.headers["location"]
    edit = {"csrf": await token(network.http), "title": "Bike and trailer repairs", "body": "All."}
    edited = await network.http.post(f"{TEST_URL}{path}/edit", data={**edit, "action": "save"})
    assert edited.status_code == 303, edited.text
    _, after = await offers.find_offer(network.node, object_id)
    assert after.minutes == 90
    assert "Bike and trailer repairs" in (await network.http.get(object_id)).text


async def test_the_offers_board_has_atom_and_rss_feeds_of_open_items(network: Network) -> None:
    # Given an open offer, an open request and a closed offer
    await _offer(network, "offer", "Weeding")
    await _offer(network, "request", "Lift to the clinic", category="lifts")
    closed = await _offer(network, "offer", "Old sofa moving")
    await offers.close(network.node, None, closed, "withdrawn")

    # When a feed reader fetches the board's feeds
    atom = await network.http.get(f"{TEST_URL}/offers/feed.atom")
    rss = await network.http.get(f"{TEST_URL}/offers/feed.rss")

    # Then both list the open items, newest first, each with its author, and not the closed one
    assert atom.headers["content-type"].startswith("application/atom+xml")
    ns = {"a": "http://www.w3.org/2005/Atom"}
    entries = ET.fromstring(atom.content).findall("a:entry", ns)
    assert [e.findtext("a:title", namespaces=ns) for e in entries] == [
        "Lift to the clinic",
        "Weeding",
    ]
    assert {e.findtext("a:author/a:name", namespaces=ns) for e in entries} == {"Ben"}
    assert [i.findtext("title") for i in ET.fromstring(rss.content).findall("channel/item")] == [
        "Lift to the clinic",
        "Weeding",
    ]
    assert (await network.http.get(f"{TEST_URL}/offers/feed.json")).status_code == 404
    board = await network.http.get(f"{TEST_URL}/offers", headers={"Accept": "text/html"})
    assert 'href="/offers/feed.atom"' in board.text
