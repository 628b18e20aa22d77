"""Passwords over HTTP: a member changes their own (the old one asked first); an admin makes a
single-use reset link (24 h, shown once); either way the member's other sessions end."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx

from node.accounts import members as accounts
from node.storage import utcnow

from ..conftest import TEST_URL
from .conftest import Network
from .web import PASSWORD, add_member, csrf_of, sign_in, token

NEW_PASSWORD = "a-brand-new-password"


async def _change(client: httpx.AsyncClient, old: str, new: str, again: str = "") -> httpx.Response:
    form = {
        "csrf": await token(client, "/settings"),
        "old_password": old,
        "password": new,
        "password_again": again or new,
    }
    return await client.post(f"{TEST_URL}/settings/password", data=form)


async def _reset_link(admin: httpx.AsyncClient, name: str) -> str:
    form = {"csrf": await token(admin, "/admin/members")}
    page = await admin.post(f"{TEST_URL}/admin/members/{name}/reset-link", data=form)
    assert page.status_code == 200, page.text
    match = re.search(r'value="(http[^"]+/reset/[^"]+)"', page.text)
    assert match, "no reset link shown"
    return match.group(1)


async def _use_link(client: httpx.AsyncClient, link: str, password: str) -> httpx.Response:
    page = await client.get(link)
    csrf = csrf_of(page.text) if page.status_code == 200 else "none"
    form = {"csrf": csrf, "password": password, "password_again": password}
    return await client.post(link, data=form)


async def test_changing_ones_password_asks_the_old_one_and_ends_other_sessions(
    network: Network,
) -> None:
    store, settings = network.node.store, network.node.settings
    await add_member(store, settings, "ann")
    await sign_in(network.http, "ann")
    async with network.fediverse.client() as laptop:
        await sign_in(laptop, "ann")
        # A wrong old password changes nothing
        wrong = await _change(network.http, "not-my-password", NEW_PASSWORD)
        assert wrong.status_code == 400 and "current password" in wrong.text
        differing = await _change(network.http, PASSWORD, NEW_PASSWORD, "something-else-1")
        assert differing.status_code == 400
        assert (await laptop.get(f"{TEST_URL}/settings")).status_code == 200
        # When ann changes it with the right old one
        changed = await _change(network.http, PASSWORD, NEW_PASSWORD)
        assert changed.status_code == 303
        # Then this session goes on, the other one has ended
        assert (await network.http.get(f"{TEST_URL}/settings")).status_code == 200
        assert (await laptop.get(f"{TEST_URL}/settings")).status_code == 303
        assert (await sign_in(laptop, "ann")).status_code == 401
        assert (await sign_in(laptop, "ann", NEW_PASSWORD)).status_code == 303


async def test_a_reset_link_works_once_and_ends_the_members_sessions(network: Network) -> None:
    store, settings = network.node.store, network.node.settings
    await add_member(store, settings, "mia", admin=True)
    await add_member(store, settings, "ann")
    await sign_in(network.http, "mia")
    link = await _reset_link(network.http, "ann")
    assert link.startswith(f"{settings.url}/reset/")
    # Only the token's hash is kept
    token_part = link.rsplit("/", 1)[1]
    assert await store.usable_password_reset(accounts.token_hash(token_part)) is not None
    assert await store.usable_password_reset(token_part) is None
    async with network.fediverse.client() as old_session, network.fediverse.client() as phone:
        await sign_in(old_session, "ann")
        # When ann opens the link and chooses a new password
        used = await _use_link(phone, link, NEW_PASSWORD)
        assert used.status_code == 303
        assert (await phone.get(f"{TEST_URL}/settings")).status_code == 200  # signed in
        # Then her old session has ended, the old password is gone, the link is spent
        assert (await old_session.get(f"{TEST_URL}/settings")).status_code == 303
        assert (await sign_in(old_session, "ann")).status_code == 401
    async with network.fediverse.client() as stranger:
        assert (await stranger.get(link)).status_code == 410
        again = await _use_link(stranger, link, "yet-another-password")
        assert again.status_code in (403, 410)
        assert (await sign_in(stranger, "ann", NEW_PASSWORD)).status_code == 303


async def test_an_expired_reset_link_is_refused(network: Network) -> None:
    store, settings = network.node.store, network.node.settings
    await add_member(store, settings, "ann")
    ann = await store.local_actor("ann")
    assert ann is not None
    await store.insert_password_reset(
        accounts.token_hash("stale"), ann.id, None, utcnow() - timedelta(minutes=1)
    )
    page = await network.http.get(f"{TEST_URL}/reset/stale")
    assert page.status_code == 410 and "ask an admin" in page.text
    login = await network.http.get(f"{TEST_URL}/login")
    form = {"csrf": csrf_of(login.text), "password": NEW_PASSWORD, "password_again": NEW_PASSWORD}
    refused = await network.http.post(f"{TEST_URL}/reset/stale", data=form)
    assert refused.status_code == 410
    assert (await sign_in(network.http, "ann")).status_code == 303  # the password stayed


async def test_a_member_cannot_make_reset_links(network: Network) -> None:
    store, settings = network.node.store, network.node.settings
    await add_member(store, settings, "mia", admin=True)
    await add_member(store, settings, "ann")
    await sign_in(network.http, "ann")
    form = {"csrf": await token(network.http, "/settings")}
    refused = await network.http.post(f"{TEST_URL}/admin/members/mia/reset-link", data=form)
    assert refused.status_code == 403


async def test_a_member_deletes_their_own_account_with_their_password(network: Network) -> None:
    store, settings = network.node.store, network.node.settings
    await add_member(store, settings, "ann")
    follow = network.mastodon.follow("alice", f"{TEST_URL}/users/ann")
    await network.mastodon.send("alice", follow, f"{TEST_URL}/users/ann/inbox")
    await network.drain()
    await sign_in(network.http, "ann")
    form = {"csrf": await token(network.http, "/settings"), "password": "wrong-password-1"}
    # A wrong password deletes nothing
    refused = await network.http.post(f"{TEST_URL}/settings/delete", data=form)
    assert refused.status_code == 400 and "current password" in refused.text
    ann = await store.local_actor("ann")
    assert ann is not None and ann.deleted_at is None
    # When she confirms with her password
    done = await network.http.post(
        f"{TEST_URL}/settings/delete", data={**form, "password": PASSWORD}
    )
    assert done.status_code == 303
    await network.drain()
    # Then the account is gone, she is signed out, and Mastodon got the Delete of the actor
    ann = await store.local_actor("ann")
    assert ann is not None and ann.deleted_at is not None
    assert (await network.http.get(f"{TEST_URL}/settings")).status_code == 303
    deleted = [a["object"]["id"] for a in network.mastodon.received("Delete")]
    assert f"{TEST_URL}/users/ann" in deleted
    assert (await sign_in(network.http, "ann")).status_code == 401
