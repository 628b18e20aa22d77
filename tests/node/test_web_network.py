"""The network page and the home page's network section, fed through a real link: gts.example's
Group announces, our node fetches the post from its origin, and the pages show it."""

from __future__ import annotations

import re

from .conftest import Network
from .test_links import _announce, _article, _linked

BROWSER = {"Accept": "text/html", "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0"}


async def test_the_network_page_lists_linked_nodes_and_what_they_publish(
    network: Network,
) -> None:
    # Given gts.example is linked and its Group announces carol's article
    await _linked(network)
    article = _article(network, name="carol")
    await _announce(network, article["id"])

    # When a visitor opens /network
    page = await network.http.get("https://conode.example/network", headers=BROWSER)

    # Then the directory lists this node and gts.example, and the article shows with its origin
    assert page.status_code == 200, page.text
    assert "@community@conode.example" in page.text
    assert "@community@gts.example" in page.text
    assert "Allotment open day" in page.text
    assert re.search(r"from <span class=\"handle\">gts\.example</span>", page.text)
    assert "Come and see the plots" in page.text


async def test_the_home_page_shows_the_latest_from_linked_nodes(network: Network) -> None:
    # Given nothing came through links yet, the home page has no network section
    home = await network.http.get("https://conode.example/", headers=BROWSER)
    assert "From linked nodes" not in home.text

    # When a linked node's post arrives
    await _linked(network)
    await _announce(network, _article(network)["id"])

    # Then the home page shows it and points to the network page
    home = await network.http.get("https://conode.example/", headers=BROWSER)
    assert "From linked nodes" in home.text
    assert "Allotment open day" in home.text
    assert 'href="/network"' in home.text


async def test_hostile_text_and_links_from_a_linked_node_are_inert(network: Network) -> None:
    # Given a linked node announces a post whose name, summary and url are hostile
    await _linked(network)
    hostile = _article(network)
    # (entity-encoded markup becomes text when sanitised, so only escaping keeps it inert)
    hostile["name"] = '<img src=x onerror="alert(1)">&lt;img src=x onerror=alert(3)&gt;Open day'
    hostile["summary"] = '<script>alert("s")</script>&lt;script&gt;alert(4)&lt;/script&gt;Plots'
    hostile["url"] = "javascript:alert(2)"
    await _announce(network, hostile["id"])

    # When the pages render it
    for path in ("/network", "/"):
        page = await network.http.get(f"https://conode.example{path}", headers=BROWSER)

        # Then no markup or script from it survives, and no javascript: link is made
        assert page.status_code == 200
        assert "Open day" in page.text
        assert "<img src=x" not in page.text
        assert "<script>alert" not in page.text
        assert "javascript:" not in page.text


async def test_a_linked_post_keeps_only_a_permalink_on_its_own_host(network: Network) -> None:
    # Given linked posts whose url is a javascript: link, or a page on another host
    await _linked(network)
    for url in ("javascript:alert(2)", "https://elsewhere.example/phish"):
        article = _article(network)
        article["url"] = url
        await _announce(network, article["id"])
    kept = _article(network)
    kept["url"] = kept["id"] + "/page"
    await _announce(network, kept["id"])

    # Then the network feed (JSON) links the first two to their ids, the third to its page
    feed = (await network.http.get("https://conode.example/network/feed.json")).json()
    urls = sorted(entry["url"] for entry in feed if not entry["local"])
    assert len(urls) == 3
    assert "https://elsewhere.example/phish" not in urls
    assert not any(url.startswith("javascript:") for url in urls)
    assert kept["id"] + "/page" in urls


async def test_the_network_feed_is_an_ordered_collection_other_software_can_find(
    network: Network,
) -> None:
    # Given 55 local posts and a linked node's article
    await _linked(network)
    article = _article(network, name="carol")
    await _announce(network, article["id"])
    local = [await network.post(f"Report {n}") for n in range(55)]
    ap = {"Accept": "application/activity+json"}
    # Then NodeInfo and the Group actor point at the collection
    nodeinfo = (await network.http.get("https://conode.example/nodeinfo/2.1")).json()
    feed_url = nodeinfo["metadata"]["networkFeed"]
    assert feed_url == "https://conode.example/network/feed"
    group = (await network.http.get("https://conode.example/groups/community", headers=ap)).json()
    assert feed_url in group["streams"]
    # and following its pages from `first` reaches every item once, newest first
    collection = (await network.http.get(feed_url, headers=ap)).json()
    assert collection["type"] == "OrderedCollection" and collection["totalItems"] == 56
    items: list[str] = []
    url: str | None = collection["first"]
    while url:
        page = (await network.http.get(url, headers=ap)).json()
        assert page["type"] == "OrderedCollectionPage" and page["partOf"] == feed_url
        items += page["orderedItems"]
        url = page.get("next")
    assert sorted(items) == sorted([*local, article["id"]])
    assert items.index(local[-1]) < items.index(local[0])
