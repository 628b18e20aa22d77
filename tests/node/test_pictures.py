"""The pictures, through the real app: the network page draws this node and the nodes it is
linked with, the offers board draws what is open by category, the about page shows the
community in figures with the hours exchanged by month. Each is an inline SVG with its words
(role="img" and a title), coloured by the stylesheet, loading nothing."""

from __future__ import annotations

import re

from node.content import publishing
from node.offers import ledger, matching

from ..conftest import TEST_URL
from .conftest import Network
from .test_links import _linked
from .test_offers import _offer, _responses, _send

BROWSER = {"Accept": "text/html"}


def _picture(page: str, css_class: str) -> str:
    """The SVG inside <figure class="css_class">."""
    found = re.search(rf'<figure class="{css_class}">\s*(<svg.*?</svg>)', page, re.S)
    assert found is not None, f"no {css_class} picture"
    svg = found.group(1)
    assert 'role="img"' in svg and "<title" in svg
    assert "href" not in svg and "style=" not in svg and "<script" not in svg
    return svg


def _words(svg: str) -> str:
    found = re.search(r"<title[^>]*>(.*?)</title>", svg, re.S)
    assert found is not None
    return found.group(1)


async def test_the_network_page_draws_the_linked_nodes(network: Network) -> None:
    page = (await network.http.get(f"{TEST_URL}/network", headers=BROWSER)).text
    alone = _picture(page, "network-map")
    assert "is not linked with other nodes yet" in _words(alone)
    assert alone.count("<circle") == 1 and "<line" not in alone
    # When gts.example is linked
    await _linked(network)
    page = (await network.http.get(f"{TEST_URL}/network", headers=BROWSER)).text
    linked = _picture(page, "network-map")
    # Then it is drawn beside this node, joined to it, and named in the words
    assert linked.count("<circle") == 2 and linked.count("<line") == 1
    assert 'class="node-here"' in linked and "node-linked" in linked
    assert _words(linked).endswith("is linked with 1 node: Community (unreachable).")
    assert ">Community</text>" in linked and 'class="node-linked unreachable"' in linked


async def test_the_offers_board_draws_what_is_open_by_category(network: Network) -> None:
    await _offer(network, title="Weeding")
    await _offer(network, title="Pruning")
    await _offer(network, kind="request", title="Hedge help")
    await _offer(network, title="A lift", category="lifts")
    gone = await _offer(network, title="Withdrawn one")
    post = await publishing.post_from_id(network.node, gone)
    assert post is not None
    await publishing.delete_post(network.node, post)  # deleted: never counted
    page = (await network.http.get(f"{TEST_URL}/offers", headers=BROWSER)).text
    chart = _picture(page, "category-chart")
    words = _words(chart)
    assert "gardening: 2 offers, 1 request" in words
    assert "lifts: 1 offer, 0 requests" in words
    # The bars are to scale: the busiest category's bars fill the width together
    widths = [
        int(w) for w in re.findall(r'<rect class="(?:accent|second)"[^>]*width="(\d+)"', chart)
    ]
    assert sorted(widths) == [73, 73, 147], widths  # 2 + 1 of 3 wide, and 1 of 3


async def test_the_about_page_shows_the_community_in_figures(network: Network) -> None:
    object_id = await _offer(network)
    reply = network.mastodon.reply("alice", object_id, "I can help on Saturday")
    await _send(network, network.mastodon, "alice", reply)
    (response,) = await _responses(network, object_id)
    await matching.match(network.node, None, object_id, response.id)
    await ledger.complete(network.node, None, object_id, "2.5")
    page = (await network.http.get(f"{TEST_URL}/about", headers=BROWSER)).text
    figures = re.search(r'<ul class="figures">(.*?)</ul>', page, re.S)
    assert figures is not None
    text = re.sub(r"<[^>]+>", "", figures.group(1))
    assert re.search(r"1\s+member\b", text), text  # ben
    assert "2.5 hours" in text and "exchanged in the last 12 months" in text
    chart = _picture(page, "hours-chart")
    assert "Hours exchanged in the last 12 months: 2.5 hours" in _words(chart)
    heights = [int(h) for h in re.findall(r'<rect class="accent"[^>]*height="(\d+)"', chart)]
    assert len(heights) == 12 and heights[-1] == 120 and sum(heights[:-1]) == 0


ENGLISH_WORDS = re.compile(
    r"\b(offers?|requests?|hours?|months?|linked|nodes?|open|other|category|exchanged|given|"
    r"received|reachable|unreachable|this node)\b",
    re.I,
)


def _all_titles(svg: str) -> str:
    return " ".join(re.findall(r"<title[^>]*>(.*?)</title>", svg, re.S))


async def test_the_pictures_words_are_in_the_pages_language(network: Network) -> None:
    # Given an exchange of hours, an open offer and request, and a linked node
    object_id = await _offer(network)
    await _offer(network, kind="request", title="Hedge help", category=None)
    reply = network.mastodon.reply("alice", object_id, "Samstag passt")
    await _send(network, network.mastodon, "alice", reply)
    (response,) = await _responses(network, object_id)
    await matching.match(network.node, None, object_id, response.id)
    await ledger.complete(network.node, None, object_id, "2.5")
    await _linked(network)
    german = BROWSER | {"Accept-Language": "de"}
    # When a German reader opens the pages, the pictures' words (and every bar's) are German
    about = (await network.http.get(f"{TEST_URL}/about", headers=german)).text
    hours = _all_titles(_picture(about, "hours-chart"))
    assert "Getauschte Stunden in den letzten 12 Monaten: 2,5 Stunden" in hours
    board = (await network.http.get(f"{TEST_URL}/offers", headers=german)).text
    offers = _all_titles(_picture(board, "category-chart"))
    assert "Offene Angebote und Gesuche nach Kategorie." in offers
    assert "Sonstiges: 0 Angebote, 1 Gesuch" in offers
    page = (await network.http.get(f"{TEST_URL}/network", headers=german)).text
    linked = _all_titles(_picture(page, "network-map"))
    assert "ist mit 1 Knoten verbunden: Community (nicht erreichbar)." in linked
    for words in (hours, offers, linked):
        assert ENGLISH_WORDS.findall(words) == [], words
