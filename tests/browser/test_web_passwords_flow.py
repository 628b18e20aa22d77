"""Passwords in a real browser (Chromium against `conode serve`): a member changes theirs and
their other session ends; an admin's reset link sets a new one once, ends the old sessions, and
is refused when used again or expired. The pages pass axe-core and need no JavaScript."""

from __future__ import annotations

import asyncio
import threading
from datetime import timedelta
from typing import Any

from node.accounts.members import token_hash
from node.storage import Store, utcnow

from .conftest import PASSWORDS, Served
from .test_web_flow import serious_violations, sign_in

NEW_PASSWORD = "ben-new-password-456"
RESET_PASSWORD = "ben-reset-password-789"


def try_sign_in(page: Any, base: str, name: str, password: str) -> bool:
    page.goto(f"{base}/login")
    page.get_by_label("Username").fill(name)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    return bool(page.get_by_role("button", name="Sign out").count())


def signed_in(page: Any, base: str) -> bool:
    page.goto(f"{base}/settings")
    return page.url.startswith(f"{base}/settings")


def expire_a_link(served: Served, name: str, token: str) -> None:
    async def insert() -> None:
        store = Store(served.env["CONODE_DATABASE_URL"])
        await store.connect()
        try:
            row = await store.local_actor(name)
            assert row is not None
            stale = utcnow() - timedelta(minutes=1)
            await store.insert_password_reset(token_hash(token), row.id, None, stale)
        finally:
            await store.disconnect()

    # In a thread of its own: Playwright's sync API keeps an event loop in this one.
    thread = threading.Thread(target=lambda: asyncio.run(insert()))
    thread.start()
    thread.join(timeout=60)


def test_changing_a_password_ends_the_other_session(served: Served, browser: Any) -> None:
    base = served.url
    # Given ben signed in on a laptop and on a phone
    laptop = browser.new_context(java_script_enabled=False).new_page()
    sign_in(laptop, base, "ben")
    phone = browser.new_context(java_script_enabled=False).new_page()
    sign_in(phone, base, "ben")
    # When he changes his password on the phone, after a wrong current one
    phone.get_by_role("link", name="Settings").click()
    phone.get_by_label("Current password").fill("not-the-password")
    phone.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    phone.get_by_label("New password again").fill(NEW_PASSWORD)
    phone.get_by_role("button", name="Change password").click()
    assert "not your current password" in phone.get_by_role("alert").inner_text()
    phone.get_by_label("Current password").fill(PASSWORDS["ben"])
    phone.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    phone.get_by_label("New password again").fill(NEW_PASSWORD)
    phone.get_by_role("button", name="Change password").click()
    phone.wait_for_url(f"{base}/settings?done=password")
    assert "every other session has ended" in phone.get_by_role("status").inner_text()
    # Then the phone stays signed in, the laptop is signed out, the old password is gone
    assert signed_in(phone, base)
    assert not signed_in(laptop, base)
    assert not try_sign_in(laptop, base, "ben", PASSWORDS["ben"])
    assert try_sign_in(laptop, base, "ben", NEW_PASSWORD)


def test_a_reset_link_works_once_and_not_after_it_expired(served: Served, browser: Any) -> None:
    base = served.url
    # Given ben signed in somewhere, and an admin who makes him a reset link
    old_session = browser.new_context().new_page()
    sign_in(old_session, base, "ben")
    admin = browser.new_context(bypass_csp=True).new_page()
    sign_in(admin, base, "mia")
    admin.goto(f"{base}/admin/members")
    admin.get_by_role("button", name="Make a password reset link for @ben").click()
    link = str(admin.get_by_label("Password reset link", exact=True).input_value())
    assert link.startswith(f"{base}/reset/")
    assert serious_violations(admin) == []
    # When he opens it (no JavaScript needed) and chooses a new password
    fresh = browser.new_context(bypass_csp=True).new_page()
    fresh.goto(link)
    assert serious_violations(fresh) == []
    fresh.get_by_label("New password", exact=True).fill(RESET_PASSWORD)
    fresh.get_by_label("New password again").fill(RESET_PASSWORD)
    fresh.get_by_role("button", name="Save the new password").click()
    fresh.wait_for_url(f"{base}/settings?done=password")
    assert serious_violations(fresh) == []
    # Then the old session has ended and only the new password works
    assert not signed_in(old_session, base)
    assert not try_sign_in(old_session, base, "ben", PASSWORDS["ben"])
    assert try_sign_in(old_session, base, "ben", RESET_PASSWORD)
    # And the link is refused a second time, as is an expired one
    stranger = browser.new_context().new_page()
    assert stranger.goto(link).status == 410
    assert "ask an admin" in stranger.locator("main").inner_text()
    expire_a_link(served, "ben", "an-expired-token")
    assert stranger.goto(f"{base}/reset/an-expired-token").status == 410


def test_the_members_own_pages_pass_axe(served: Served, browser: Any) -> None:
    page = browser.new_context(bypass_csp=True).new_page()
    sign_in(page, served.url, "ben")
    for path in ("/settings", "/notifications", "/@ben/hours"):
        assert page.goto(f"{served.url}{path}").status == 200, path
        assert serious_violations(page) == [], path


def test_forgot_password_answers_the_same_for_unknown_names(served: Served, browser: Any) -> None:
    page = browser.new_context(bypass_csp=True, java_script_enabled=False).new_page()
    answers = []
    for name in ("ben", "nobody"):
        page.goto(f"{served.url}/login")
        page.get_by_role("link", name="Forgot your password?").click()
        page.get_by_label("Username").fill(name)
        page.get_by_role("button", name="Send me a link").click()
        answers.append(page.get_by_role("status").inner_text())
    assert answers[0] == answers[1] and "admins" in answers[0]
    page = browser.new_context(bypass_csp=True).new_page()
    page.goto(f"{served.url}/forgot")
    assert serious_violations(page) == []
