"""The issue's "done when", in a real browser: a member publishes a report with an image, a
Mastodon-shaped peer replies, a moderator approves the reply from the queue, and a signed-out
visitor reads it under the report. Pages pass axe-core with no serious or critical violation."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from PIL import Image

from .conftest import AXE, PASSWORDS, Peer, Served

WIDTHS = (1280, 375)


def png_bytes() -> bytes:
    image = Image.new("RGB", (64, 48), (30, 120, 60))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def sign_in(page: Any, base: str, name: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("Username").fill(name)
    page.get_by_label("Password").fill(PASSWORDS[name])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/")
    assert page.get_by_role("button", name="Sign out").is_visible()


def screenshots(page: Any, artifacts: Path, name: str) -> None:
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(artifacts / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def serious_violations(page: Any) -> list[str]:
    """axe-core (the npm package) run in the page: serious and critical violations."""
    assert AXE.exists(), "run `npm ci --prefix tests/browser` (.ci/run does) to get axe-core"
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        """async () => await axe.run(document, {runOnly: {type: 'tag', values:
            ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice']}})"""
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def publish_report(page: Any, base: str, image_path: Path) -> str:
    page.goto(f"{base}/write")
    page.get_by_label("Report").check()
    page.get_by_label("Title", exact=True).fill("Spring clean-up on the canal path")
    page.get_by_label("Text", exact=True).fill("We cleared **forty bags** of litter. #CanalCleanUp")
    page.get_by_label("Image (optional").set_input_files(str(image_path))
    page.get_by_label("Image description (alt text)").fill("Volunteers with litter bags")
    page.get_by_role("button", name="Preview").click()
    assert "forty bags" in page.locator(".preview strong").inner_text()
    assert page.locator(".preview img").get_attribute("alt") == "Volunteers with litter bags"
    page.get_by_role("button", name="Publish").click()
    page.wait_for_url(f"{base}/posts/**")
    return str(page.url)


def test_member_publishes_peer_replies_moderator_approves_visitor_reads(
    served: Served, peer: Peer, browser: Any, artifacts: Path, tmp_path: Path
) -> None:
    base = served.url
    image_path = tmp_path / "cleanup.png"
    image_path.write_bytes(png_bytes())

    # Given a member signed in, who publishes a report with an image and its alt text
    member = browser.new_context()
    page = member.new_page()
    sign_in(page, base, "ben")
    post_url = publish_report(page, base, image_path)
    image = page.get_by_role("img", name="Volunteers with litter bags")
    assert image.is_visible()
    assert page.evaluate("img => img.naturalWidth", image.element_handle()) == 64
    member.close()

    # When a Mastodon-shaped server replies (a signed POST to the shared inbox)
    ben_id = f"{base}/users/ben"
    reply = peer.server.reply(
        "alice", post_url, "Great work, see you next time!", mention=(ben_id, "@ben@127.0.0.1")
    )
    assert peer.send("alice", reply, f"{base}/inbox") == 202
    served.wait_for_comment("pending", "see you next time")

    # Then a signed-out visitor does not see it yet
    visitor = browser.new_context(bypass_csp=True)
    public = visitor.new_page()
    public.goto(post_url)
    assert "see you next time" not in public.locator(".comments").inner_text()

    # When a moderator signs in, finds it in the queue and approves it
    moderator = browser.new_context(bypass_csp=True)
    queue = moderator.new_page()
    sign_in(queue, base, "mia")
    queue.get_by_role("link", name="Moderation").click()
    item = queue.locator(".queue-item", has_text="see you next time")
    assert item.is_visible()
    assert f"@alice@{peer.server.host}" in item.inner_text()
    screenshots(queue, artifacts, "queue")
    assert serious_violations(queue) == []
    item.get_by_role("button", name="Approve", exact=False).first.click()
    assert "approved" in queue.get_by_role("status").inner_text()
    assert queue.locator(".queue-item", has_text="see you next time").count() == 0
    moderator.close()

    # Then the signed-out visitor sees it under the report, its author linked as @name@server
    public.goto(post_url)
    comment = public.locator(".comments .comment", has_text="see you next time")
    assert comment.is_visible()
    author = comment.get_by_role("link", name="Alice")
    assert author.get_attribute("href") == f"{peer.server.base_url}/@alice"
    assert f"@alice@{peer.server.host}" in comment.inner_text()
    screenshots(public, artifacts, "post")
    assert serious_violations(public) == []
    visitor.close()


def test_demo_content_and_every_public_page_pass_axe(
    served: Served, browser: Any, artifacts: Path
) -> None:
    # Given the demo's members, posts, image and threaded comments
    served.conode("demo")
    context = browser.new_context(bypass_csp=True)
    page = context.new_page()
    page.goto(served.url)
    screenshots(page, artifacts, "home")
    latest = page.locator("section[aria-labelledby=latest-heading] h3 a")
    posts = [str(link.get_attribute("href")) for link in latest.all()]
    assert len(posts) == 3
    assert page.locator("section[aria-labelledby=offers-heading] h3 a").count() == 3
    # Then each public page (and the sign-in form) has no serious or critical violation
    for path in ["/", "/about", "/@rosa", "/login", *posts]:
        page.goto(served.url + path)
        assert serious_violations(page) == [], path
    # And the report shows its picture and a reply nested under the comment it answers
    page.goto(served.url + posts[-1])
    assert page.get_by_role("img", name="litter bags lined up by the canal").is_visible()
    nested = page.locator(".comment .comment", has_text="gloves for everyone")
    assert nested.is_visible()
    context.close()
