"""The look, in a real browser (Debian's Chromium): home, a post, the offers board, the network
page and the about page of a node with sample content and a look of its own (name, logo, accent
colour, header image), at 1280 and 375 px wide, in the light and the dark scheme, in every
language the node speaks. Each screenshot is kept under test-artifacts/look/; axe-core finds no
serious or critical issue on any of them; no request leaves the node's origin; the accent
colour reaches the buttons and the dark scheme changes the page's colours."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageDraw

from node.web import i18n

from .conftest import Served
from .test_web_flow import serious_violations, sign_in

WIDTHS = (1280, 375)
SCHEMES = ("light", "dark")
PAGES = ("home", "post", "offers", "network", "about", "elsewhere")
# Table headings and handles in tables that the browser laid out on more than one line
# ("membe / r"): they must stay whole, the table scrolling sideways instead.
BROKEN_WORDS = """() => [...document.querySelectorAll('th, td .handle')].filter(cell => {
    const range = document.createRange();
    range.selectNodeContents(cell);
    return new Set([...range.getClientRects()].map(r => Math.round(r.top))).size > 1;
}).map(cell => cell.textContent.trim())"""


def languages() -> list[str]:
    """The languages the node speaks (each screenshot set is taken in every one)."""
    return [language.code for language in i18n.available_languages()]


def _image(size: tuple[int, int], colours: tuple[tuple[int, int, int], ...]) -> bytes:
    image = Image.new("RGB", size, colours[0])
    draw = ImageDraw.Draw(image)
    width, height = size
    for index, colour in enumerate(colours[1:], start=1):
        draw.ellipse((width * index // 5, height // 4, width * index // 5 + height // 2,
                      height * 3 // 4), fill=colour)  # fmt: skip
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def styled(served: Served, tmp_path: Path) -> dict[str, str]:
    """The node filled by `conode demo`, with a look set by `conode site set`; the URLs of
    the pages."""
    out = served.conode("demo")
    report = re.search(r"created post (\S+)", out)
    assert report is not None, out
    logo, header, face = tmp_path / "logo.png", tmp_path / "header.png", tmp_path / "face.png"
    logo.write_bytes(_image((256, 256), ((14, 94, 74), (250, 200, 60))))
    header.write_bytes(_image((1500, 500), ((30, 90, 130), (80, 160, 200), (240, 240, 230))))
    face.write_bytes(_image((200, 200), ((200, 150, 120), (60, 40, 30))))
    served.conode("site", "set", "--name", "Riverside Timebank", "--accent", "#0e7a5f",
                  "--logo", str(logo), "--header", str(header))  # fmt: skip
    served.conode("user", "edit", "rosa", "--avatar", str(face))
    base = served.url
    return {
        "home": f"{base}/",
        "post": report.group(1),
        "offers": f"{base}/offers",
        "network": f"{base}/network",
        "about": f"{base}/about",
        "elsewhere": f"{base}/elsewhere",
    }


@pytest.mark.parametrize("language", languages())
def test_every_page_in_every_width_and_scheme(
    served: Served, styled: dict[str, str], browser: Any, artifacts: Path, language: str
) -> None:
    folder = artifacts / "look"
    folder.mkdir(exist_ok=True)
    problems: list[str] = []
    requested: list[str] = []
    backgrounds: dict[str, str] = {}
    for scheme in SCHEMES:
        # bypass_csp only lets axe's script in; the node's own CSP is checked elsewhere
        context = browser.new_context(color_scheme=scheme, locale=language, bypass_csp=True)
        context.on("request", lambda request: requested.append(request.url))
        page = context.new_page()
        for name in PAGES:
            response = page.goto(styled[name])
            assert response is not None and response.status == 200, (name, scheme)
            assert page.evaluate("() => document.documentElement.lang") == language, name
            for width in WIDTHS:
                page.set_viewport_size({"width": width, "height": 900})
                shot = folder / f"{name}-{width}-{scheme}-{language}.png"
                page.screenshot(path=str(shot), full_page=True)
                overflow = page.evaluate(
                    "() => document.documentElement.scrollWidth - window.innerWidth"
                )
                if overflow > 0:
                    problems.append(f"{name} at {width} px ({scheme}) is {overflow} px too wide")
                broken = page.evaluate(BROKEN_WORDS)
                if broken:
                    problems.append(f"{name} at {width} px: words broken in tables: {broken}")
                problems += [f"{name} {width} {scheme}: {v}" for v in serious_violations(page)]
        backgrounds[scheme] = page.evaluate("() => getComputedStyle(document.body).backgroundColor")
        button = page.locator("header.site .site-search button")
        assert button.evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(14, 122, 95)"
        context.close()
    assert problems == [], "\n".join(problems)
    # The dark scheme is a different page, not the same one
    assert (
        backgrounds["light"] == "rgb(255, 255, 255)" and backgrounds["dark"] != "rgb(255, 255, 255)"
    )
    # Every request the pages made (documents, styles, pictures) went to the node itself
    elsewhere = [url for url in requested if not url.startswith(served.url + "/")]
    assert elsewhere == [] and requested, elsewhere
    assert any("/theme.css" in url for url in requested)
    assert any(re.search(r"/media/[\w-]+-1500x500$", url) for url in requested)


def test_a_report_prints_without_navigation_or_forms(
    served: Served, styled: dict[str, str], browser: Any, artifacts: Path
) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.goto(styled["post"])
    page.emulate_media(media="print")
    hidden = ("header.site nav", ".site-search", ".reply-elsewhere", "footer.site", ".site-banner")
    for selector in hidden:
        assert not page.locator(selector).first.is_visible(), selector
    assert page.locator("article.post h1").is_visible()
    assert page.locator(".comments .comment").first.is_visible()
    (artifacts / "look").mkdir(exist_ok=True)
    page.pdf(path=str(artifacts / "look" / "post-print.pdf"))
    context.close()


def test_an_admin_sets_the_look_on_the_about_page(
    served: Served, styled: dict[str, str], browser: Any, artifacts: Path, tmp_path: Path
) -> None:
    context = browser.new_context(bypass_csp=True)
    page = context.new_page()
    sign_in(page, served.url, "mia")
    page.goto(f"{served.url}/about/edit")
    page.get_by_label("Name", exact=True).fill("Riverside Time Bank")
    page.get_by_label("Remove the header image").check()
    page.get_by_role("button", name="Save the look").click()
    assert "The look is saved" in page.get_by_role("status").inner_text()
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(artifacts / "look" / f"about-edit-{width}.png"), full_page=True)
    assert serious_violations(page) == []
    assert page.locator(".site-name").inner_text().strip() == "Riverside Time Bank"
    assert page.locator(".site-banner").count() == 0
    assert page.locator(".site-logo").count() == 1  # the logo stays
    context.close()
