"""Every public page stays small and self-contained: under 50 KB of HTML and CSS before images,
and nothing it loads comes from another site (fonts, scripts, trackers)."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

from node.content import publishing
from node.federation.actors import local_actor
from node.offers import proposals as offers

from ..conftest import TEST_URL
from .conftest import Network

BUDGET_BYTES = 50 * 1024
# Elements and attributes whose URL the browser fetches by itself when it renders the page.
FETCHED = {
    "link": "href",
    "script": "src",
    "img": "src",
    "iframe": "src",
    "source": "src",
    "video": "src",
    "audio": "src",
    "embed": "src",
    "object": "data",
    "input": "src",
}
CSS_URL = re.compile(r"""url\(\s*['"]?([^'")]+)|@import\s+['"]([^'"]+)""")


class Resources(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.stylesheets: list[str] = []
        self.inline: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "link" and values.get("rel") in ("alternate", "canonical"):
            return  # links to follow, not loaded by the browser
        if tag in ("style",) or values.get("style") is not None:
            self.inline.append(tag)
        name = FETCHED.get(tag)
        url = values.get(name) if name else None
        if url:
            self.urls.append(url)
            if tag == "link" and values.get("rel") == "stylesheet":
                self.stylesheets.append(url)
        for srcset in (values.get("srcset") or "").split(","):
            if srcset.strip():
                self.urls.append(srcset.split()[0])


async def _public_pages(net: Network) -> list[str]:
    report = await net.post()
    reply = net.mastodon.reply("alice", report, "Thank you!")
    await net.mastodon.send("alice", reply, f"{TEST_URL}/inbox")
    await net.drain()
    ben = await net.node.store.local_actor("ben")
    assert ben is not None
    offer = await offers.create_offer(
        net.node,
        local_actor(net.node.settings, ben),
        publishing.Draft("offer", "Help in your garden", "Weeding, pruning."),
        offers.OfferDraft(category="gardening", hours="2"),
    )
    return [
        "/",
        "/about",
        "/offers",
        "/offers?state=all&kind=offer",
        report.removeprefix(TEST_URL),
        f"/posts/{offer.public_id}",
        "/@ben",
        "/tags/canalcleanup",
        "/badge",
        "/network",
        "/login",
        "/invite/not-a-token",
    ]


def _same_site(page_url: str, url: str) -> bool:
    absolute = urlsplit(urljoin(page_url, url))
    return (absolute.scheme, absolute.netloc) == tuple(urlsplit(TEST_URL)[:2])


async def test_each_public_page_is_under_50_kb_and_loads_nothing_from_elsewhere(
    network: Network,
) -> None:
    for path in await _public_pages(network):
        page = await network.http.get(TEST_URL + path)
        assert page.status_code in (200, 410), path
        found = Resources()
        found.feed(page.text)
        assert found.inline == [], f"{path} has inline styles"
        assert all(_same_site(TEST_URL + path, url) for url in found.urls), (path, found.urls)
        css_bytes = 0
        for sheet in found.stylesheets:
            css = await network.http.get(urljoin(TEST_URL + path, sheet))
            css_bytes += len(css.content)
            for match in CSS_URL.finditer(css.text):
                assert _same_site(TEST_URL + path, match.group(1) or match.group(2)), sheet
        total = len(page.content) + css_bytes
        assert total < BUDGET_BYTES, f"{path}: {total} bytes of HTML and CSS"
        csp = page.headers["content-security-policy"]
        assert "http" not in csp and "*" not in csp  # nor could the browser load any


async def test_the_stylesheet_has_a_print_style_and_fits_320_px(network: Network) -> None:
    css = (await network.http.get(f"{TEST_URL}/static/site.css")).text
    print_rules = css.split("@media print", 1)[1]
    for hidden in ("nav", "form", ".manage"):
        assert hidden in print_rules.split("}", 1)[0], hidden
    # nothing fixed-width wider than the smallest phone
    widths = [int(w) for w in re.findall(r"(?<![-\w])(?:min-)?width:\s*(\d+)px", css)]
    assert all(width <= 320 for width in widths), widths
