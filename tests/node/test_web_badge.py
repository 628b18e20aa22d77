"""The embeddable badge: an SVG and a static HTML snippet with the community's name, its follow
handle and the number of open offers; no script, no tracking, no cookies; a page to copy it."""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET

from node.content import publishing
from node.federation.actors import local_actor
from node.offers import proposals as offers
from node.web import badges

from ..conftest import TEST_URL
from .conftest import Network

SVG = "{http://www.w3.org/2000/svg}"
HANDLE = "@community@conode.example"


async def _open_offer(net: Network, title: str) -> str:
    row = await net.node.store.local_actor("ben")
    assert row is not None
    post = await offers.create_offer(
        net.node,
        local_actor(net.node.settings, row),
        publishing.Draft("offer", title, "Details."),
        offers.OfferDraft(category="gardening", hours="1"),
    )
    return publishing.post_id(net.node, post)


def _texts(svg: bytes) -> str:
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    return " ".join(" ".join(el.itertext()) for el in root.iter(f"{SVG}text"))


async def test_the_svg_badge_shows_name_handle_and_open_offers(network: Network) -> None:
    await _open_offer(network, "Weeding")
    closed = await _open_offer(network, "Pruning")
    await offers.close(network.node, None, closed, "withdrawn")
    await _open_offer(network, "Mending")
    response = await network.http.get(f"{TEST_URL}/badge.svg")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("image/svg+xml")
    texts = _texts(response.content)
    assert network.node.settings.name in texts and HANDLE in texts
    assert "2 open offers" in texts
    # embeddable elsewhere, and nothing in it runs, tracks or sets a cookie
    assert response.headers["cross-origin-resource-policy"] == "cross-origin"
    assert "set-cookie" not in response.headers
    body = response.text.lower()
    assert "<script" not in body and "href" not in body and not re.search(r"\son\w+=", body)
    assert "<image" not in body and "url(" not in body


def test_a_hostile_community_name_is_escaped_in_the_svg() -> None:
    svg = badges.svg("<script>alert(1)</script> & co", HANDLE, 1)
    assert "<script>" not in svg
    assert "<script>alert(1)</script> & co" in _texts(svg.encode())
    assert "1 open offer" in _texts(svg.encode()) and "1 open offers" not in svg


async def test_the_badge_page_offers_snippets_to_copy(network: Network) -> None:
    await _open_offer(network, "Weeding")
    page = await network.http.get(f"{TEST_URL}/badge")
    assert page.status_code == 200
    snippets = [
        html.unescape(s) for s in re.findall(r"<textarea[^>]*>(.*?)</textarea>", page.text, re.S)
    ]
    assert len(snippets) == 2
    image, text = snippets
    assert f'src="{TEST_URL}/badge.svg"' in image and f'href="{TEST_URL}/"' in image
    assert HANDLE in text and "1 open offer" in text
    for snippet in snippets:
        assert "<script" not in snippet and "style=" not in snippet
        assert re.search(r"\son\w+=", snippet) is None
    # The HTML snippet is the badge itself: the same page renders it for a preview
    assert text.strip() in page.text.replace("&#39;", "'") or html.escape(text.strip()) in page.text


async def test_the_badge_reads_no_session(network: Network) -> None:
    network.http.cookies.set("conode_session", "not-a-valid-session")
    response = await network.http.get(f"{TEST_URL}/badge.svg")
    assert response.status_code == 200
    assert "set-cookie" not in response.headers
    assert "Cookie" not in response.headers.get("vary", "")
