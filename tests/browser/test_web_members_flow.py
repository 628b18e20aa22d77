"""The members' own pages in a real browser (Chromium against `conode serve`) with JavaScript
off: notifications, the profile and mail choices on /settings and a reset link all work by
plain form posts; and axe-core finds no serious or critical issue on them (run with JavaScript
on, in a context of its own)."""

from __future__ import annotations

import json
import time
from typing import Any

from .conftest import Peer, Served
from .test_web_flow import serious_violations, sign_in

NEW_PASSWORD = "ben-chosen-password-321"


def _notifications(served: Served, name: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = json.loads(served.conode("notifications", name, "--json"))
    return found


def _followed_by_alice(served: Served, peer: Peer) -> None:
    base = served.url
    follow = peer.server.follow("alice", f"{base}/users/ben")
    assert peer.send("alice", follow, f"{base}/inbox") == 202
    deadline = time.monotonic() + 30
    while not _notifications(served, "ben"):
        assert time.monotonic() < deadline, served.conode("log")
        time.sleep(0.3)


def test_the_members_pages_work_without_javascript(
    served: Served, browser: Any, peer: Peer
) -> None:
    base = served.url
    _followed_by_alice(served, peer)
    page = browser.new_context(java_script_enabled=False).new_page()
    sign_in(page, base, "ben")
    # The header counts the notification; the page lists it with a link to alice
    assert page.get_by_role("link", name="Notifications").inner_text().split() == [
        "Notifications",
        "1",
        "new",
    ]
    page.get_by_role("link", name="Notifications").click()
    item = page.locator("ol.notifications li").first
    assert "follows you" in item.inner_text() and "New:" in item.inner_text()
    # The profile is saved by a plain form post
    page.goto(f"{base}/settings")
    page.get_by_label("Display name").fill("Ben Baker")
    page.get_by_label("About you").fill("I mend **bikes**.")
    page.get_by_role("button", name="Save profile").click()
    page.wait_for_url(f"{base}/settings?done=profile")
    assert "profile is saved" in page.get_by_role("status").inner_text()
    page.goto(f"{base}/@ben")
    assert page.get_by_role("heading", name="Ben Baker").is_visible()
    assert page.locator(".bio strong").inner_text() == "bikes"
    # So are the mail choices: mentions on, responses off
    page.goto(f"{base}/settings")
    assert page.get_by_label("Someone answers your offer or request").is_checked()  # a default
    assert not page.get_by_label("Someone mentions you").is_checked()
    page.get_by_label("Someone mentions you").check()
    page.get_by_label("Someone answers your offer or request").uncheck()
    page.get_by_role("button", name="Save mail choices").click()
    page.wait_for_url(f"{base}/settings?done=mail")
    assert "mail choices are saved" in page.get_by_role("status").inner_text()
    assert page.get_by_label("Someone mentions you").is_checked()
    assert not page.get_by_label("Someone answers your offer or request").is_checked()
    # And, signed out, a reset link an admin made sets a new password without JavaScript
    # ("forgot your password?" without JavaScript: test_web_passwords_flow.py)
    stranger = browser.new_context(java_script_enabled=False).new_page()
    link = served.conode("user", "reset-link", "ben").split()[0]
    assert link.startswith(f"{base}/reset/")
    stranger.goto(link)
    stranger.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    stranger.get_by_label("New password again").fill(NEW_PASSWORD)
    stranger.get_by_role("button", name="Save the new password").click()
    stranger.wait_for_url(f"{base}/settings?done=password")


def test_the_members_pages_pass_axe(served: Served, browser: Any, peer: Peer) -> None:
    base = served.url
    _followed_by_alice(served, peer)
    page = browser.new_context(bypass_csp=True).new_page()
    for path in ("/forgot", "/login"):
        assert page.goto(f"{base}{path}").status == 200, path
        assert serious_violations(page) == [], path
    page.goto(f"{base}/forgot")
    page.get_by_label("Username").fill("nobody")
    page.get_by_role("button", name="Send me a link").click()
    assert serious_violations(page) == [], "/forgot answered"
    link = served.conode("user", "reset-link", "ben").split()[0]
    assert page.goto(link).status == 200
    assert serious_violations(page) == [], "/reset"
    sign_in(page, base, "ben")
    for path in ("/notifications", "/settings", "/settings?done=mail", "/@ben", "/@ben/hours"):
        assert page.goto(f"{base}{path}").status == 200, path
        assert serious_violations(page) == [], path
