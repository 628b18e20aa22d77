"""The rest of issue 7 in a real browser: an admin invites someone, who joins through the link
and publishes a report with a PDF attached; the offers board, the badge and the invitation
page pass axe-core; public pages load nothing from elsewhere, fit 320 px and print cleanly."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .conftest import Served
from .test_web_flow import screenshots, serious_violations, sign_in

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
NEW_PASSWORD = "zoe-password-1234"


def invite(page: Any, base: str) -> str:
    sign_in(page, base, "mia")
    page.get_by_role("link", name="Moderation").click()
    page.get_by_role("link", name="Members").click()
    page.get_by_label("Who is it for?").fill("Zoe from the allotments")
    page.get_by_role("button", name="Create invitation link").click()
    link = str(page.get_by_label("Invitation link").input_value())
    assert link.startswith(f"{base}/invite/")
    return link


def join(page: Any, link: str) -> None:
    page.goto(link)
    assert serious_violations(page) == []
    page.get_by_label("Username").fill("zoe")
    page.get_by_label("Display name").fill("Zoe")
    page.get_by_label("Password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Password again").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Join").click()
    page.wait_for_url("**/@zoe")
    assert page.get_by_role("button", name="Sign out").is_visible()


def publish_with_pdf(page: Any, base: str, pdf_path: Path) -> str:
    page.goto(f"{base}/write")
    page.get_by_label("Report").check()
    page.get_by_label("Title", exact=True).fill("Allotment committee minutes")
    page.get_by_label("Text", exact=True).fill("The minutes of Tuesday's meeting are attached.")
    page.get_by_label("Document (optional").set_input_files(str(pdf_path))
    page.get_by_label("Document name").fill("Minutes, 3 June")
    page.get_by_role("button", name="Publish").click()
    page.wait_for_url(f"{base}/posts/**")
    return str(page.url)


def test_an_invited_person_joins_and_attaches_a_pdf_to_a_report(
    served: Served, browser: Any, artifacts: Path, tmp_path: Path
) -> None:
    base = served.url
    pdf_path = tmp_path / "minutes.pdf"
    pdf_path.write_bytes(PDF)
    # Given an admin who creates an invitation link
    admin = browser.new_context(bypass_csp=True)
    link = invite(admin.new_page(), base)
    # When the invited person opens it, joins and publishes a report with a PDF
    newcomer = browser.new_context(bypass_csp=True)
    page = newcomer.new_page()
    join(page, link)
    post_url = publish_with_pdf(page, base, pdf_path)
    document = page.get_by_role("link", name="Minutes, 3 June")
    assert document.is_visible()
    screenshots(page, artifacts, "post-with-document")
    assert serious_violations(page) == []
    # Then the document downloads as the PDF it is, never rendered in the page
    download = newcomer.request.get(str(document.get_attribute("href")))
    assert download.body() == PDF
    assert download.headers["content-disposition"].startswith("attachment;")
    assert download.headers["x-content-type-options"] == "nosniff"
    # And the link is spent, and the admin sees who used it
    other = browser.new_context()
    assert other.new_page().goto(link).status == 410
    members = admin.pages[0]
    members.reload()
    assert "used by" in members.locator("main").inner_text()
    assert serious_violations(members) == []
    for context in (admin, newcomer, other):
        context.close()
    assert post_url.startswith(base)


def test_public_pages_load_only_from_the_node_fit_320px_and_print(
    served: Served, browser: Any, artifacts: Path
) -> None:
    served.conode("demo")
    context = browser.new_context()
    page = context.new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(served.url)
    posts = [str(link.get_attribute("href")) for link in page.locator("main h3 a").all()]
    paths = ["/", "/offers", "/offers?state=all", "/network", "/badge", "/about", "/@rosa", *posts]
    for path in paths:
        page.set_viewport_size({"width": 320, "height": 700})
        page.goto(served.url + path)
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= 320, f"{path} is {width} px wide at 320 px"
        page.emulate_media(media="print")
        assert (
            page.locator("header.site nav").evaluate("n => getComputedStyle(n).display") == "none"
        )
        page.emulate_media(media="screen")
    foreign = [url for url in requested if not url.startswith(served.url)]
    assert foreign == []
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(served.url + "/offers")
    screenshots(page, artifacts, "offers")
    context.close()
    # And the new public pages pass axe-core
    checked = browser.new_context(bypass_csp=True)
    axe_page = checked.new_page()
    for path in ["/offers", "/offers?kind=request&state=all", "/network", "/badge", *posts]:
        axe_page.goto(served.url + path)
        assert serious_violations(axe_page) == [], path
    checked.close()
