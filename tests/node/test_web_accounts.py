"""Invitations and account management over HTTP: an admin invites, a person joins through the
link once; roles (member < moderator < admin) gate the pages; suspension, deletion and signing
out revoke sessions on the server, so even a copied cookie stops working."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
import pytest

from node.accounts import members as accounts
from node.settings import Settings
from node.storage import Store, utcnow

from ..conftest import TEST_URL
from .conftest import Network
from .web import PASSWORD, add_member, sign_in, token

MODERATION = ["/moderation", "/moderation/reports", "/moderation/blocks", "/moderation/log"]
ADMIN_ONLY = ["/admin", "/admin/members", "/about/edit"]


async def _invitation(client: httpx.AsyncClient) -> str:
    form = {"csrf": await token(client, "/admin/members"), "days": "3", "note": "for Zoe"}
    page = await client.post(f"{TEST_URL}/admin/invitations", data=form)
    assert page.status_code == 200, page.text
    match = re.search(r'value="(http[^"]+/invite/[^"]+)"', page.text)
    assert match, "no invitation link shown"
    return match.group(1)


async def _join(client: httpx.AsyncClient, link: str, name: str) -> httpx.Response:
    page = await client.get(link)
    assert page.status_code == 200
    from .web import csrf_of

    form = {
        "csrf": csrf_of(page.text),
        "username": name,
        "display_name": "Zoe <b>Z</b>",
        "password": PASSWORD,
        "password_again": PASSWORD,
    }
    return await client.post(link, data=form)


async def _act(client: httpx.AsyncClient, name: str, action: str) -> httpx.Response:
    form = {"csrf": await token(client, "/admin/members"), "action": action, "confirm": "yes"}
    return await client.post(f"{TEST_URL}/admin/members/{name}", data=form)


async def test_a_person_joins_through_an_invitation_link_once(network: Network) -> None:
    store, settings = network.node.store, network.node.settings
    await add_member(store, settings, "mia", admin=True)
    await sign_in(network.http, "mia")
    link = await _invitation(network.http)
    # When someone opens the link in their own browser and chooses a name and password
    async with network.fediverse.client() as browser:
        joined = await _join(browser, link, "zoe")
        assert joined.status_code == 303 and joined.headers["location"] == "/@zoe"
        assert (await browser.get(f"{TEST_URL}/write")).status_code == 200  # signed in
    zoe = await store.local_actor("zoe")
    assert zoe is not None and not zoe.is_admin and not zoe.is_moderator
    assert zoe.display_name == "Zoe <b>Z</b>"  # kept as text, escaped when shown
    # Then the same link does not work a second time
    async with network.fediverse.client() as other:
        assert (await other.get(link)).status_code == 410
        again = await other.post(link, data={"csrf": "x", "username": "eve"})
        assert again.status_code == 403
    members = await network.http.get(f"{TEST_URL}/admin/members")
    assert "used by" in members.text and "@zoe" in members.text
    assert "<b>Z</b>" not in members.text


async def test_an_expired_or_unknown_invitation_is_refused(
    client: httpx.AsyncClient, store: Store, settings: Settings
) -> None:
    await add_member(store, settings, "mia", admin=True)
    mia = await store.local_actor("mia")
    assert mia is not None
    old = utcnow() - timedelta(minutes=1)
    await store.insert_invitation(accounts.token_hash("stale"), mia.id, old, "")
    for link in ("/invite/stale", "/invite/never-made"):
        page = await client.get(link)
        assert page.status_code == 410 and "ask the node" in page.text
    page = await client.get("/login")
    from .web import csrf_of

    form = {"csrf": csrf_of(page.text), "username": "eve", "password": PASSWORD}
    refused = await client.post("/invite/stale", data={**form, "password_again": PASSWORD})
    assert refused.status_code == 400
    assert await store.local_actor("eve") is None


async def test_joining_refuses_a_reserved_name_or_a_short_password(network: Network) -> None:
    await add_member(network.node.store, network.node.settings, "mia", admin=True)
    await sign_in(network.http, "mia")
    link = await _invitation(network.http)
    async with network.fediverse.client() as browser:
        taken = await _join(browser, link, "mia")
        assert taken.status_code == 400 and "already exists" in taken.text
        bad = await _join(browser, link, "Not A Name!")
        assert bad.status_code == 400
    # The failed attempts did not use the invitation up
    async with network.fediverse.client() as browser:
        assert (await _join(browser, link, "zoe")).status_code == 303


async def test_moderators_reach_moderation_but_not_account_management(network: Network) -> None:
    store, settings = network.node.store, network.node.settings
    await add_member(store, settings, "mia", admin=True)
    await add_member(store, settings, "ann")
    await sign_in(network.http, "mia")
    assert (await _act(network.http, "ann", "make_moderator")).status_code == 303
    async with network.fediverse.client() as ann:
        await sign_in(ann, "ann")
        for path in MODERATION:
            assert (await ann.get(f"{TEST_URL}{path}")).status_code == 200, path
        for path in ADMIN_ONLY:
            assert (await ann.get(f"{TEST_URL}{path}")).status_code == 403, path
        form = {"csrf": await token(ann, "/moderation/blocks"), "action": "suspend", "days": "3"}
        assert (await ann.post(f"{TEST_URL}/admin/members/mia", data=form)).status_code == 403
        assert (await ann.post(f"{TEST_URL}/admin/invitations", data=form)).status_code == 403
        assert await store.invitations() == []
        # When the admin takes the role back, the moderation pages close at once
        assert (await _act(network.http, "ann", "unmake_moderator")).status_code == 303
        assert (await ann.get(f"{TEST_URL}/moderation")).status_code == 403
    log = await store.moderation_history()
    assert [entry["action"] for entry in log] == ["unmake_moderator", "make_moderator"]
    assert all(entry["username"] == "mia" for entry in log)


@pytest.mark.parametrize("path", ADMIN_ONLY)
async def test_a_member_cannot_reach_admin_pages(
    client: httpx.AsyncClient, store: Store, settings: Settings, path: str
) -> None:
    await add_member(store, settings, "ann")
    await sign_in(client, "ann")
    assert (await client.get(path)).status_code == 403


async def test_suspension_ends_existing_sessions_and_sign_in(network: Network) -> None:
    store, settings = network.node.store, network.node.settings
    await add_member(store, settings, "mia", admin=True)
    await add_member(store, settings, "ann")
    await sign_in(network.http, "mia")
    async with network.fediverse.client() as ann:
        await sign_in(ann, "ann")
        assert (await ann.get(f"{TEST_URL}/write")).status_code == 200
        assert (await _act(network.http, "ann", "suspend")).status_code == 303
        assert (await ann.get(f"{TEST_URL}/write")).status_code == 303  # sent to sign in
        assert (await sign_in(ann, "ann")).status_code == 401
        await _act(network.http, "ann", "unsuspend")
        assert (await sign_in(ann, "ann")).status_code == 303


async def test_signing_out_revokes_a_copied_cookie(
    client: httpx.AsyncClient, store: Store, settings: Settings
) -> None:
    await add_member(store, settings, "ann")
    await sign_in(client, "ann")
    stolen = dict(client.cookies)
    await client.post("/logout", data={"csrf": await token(client)})
    client.cookies.clear()
    client.cookies.update(stolen)  # the old cookie, still correctly signed
    assert (await client.get("/write")).status_code == 303
    assert "@ann" not in (await client.get("/")).text.split("<main")[0]


async def test_an_admin_cannot_suspend_or_delete_an_admin(network: Network) -> None:
    store, settings = network.node.store, network.node.settings
    await add_member(store, settings, "mia", admin=True)
    await add_member(store, settings, "max", admin=True)
    await sign_in(network.http, "mia")
    for name in ("max", "mia"):
        refused = await _act(network.http, name, "suspend")
        assert refused.status_code == 400 and "conode user" in refused.text
    max_row = await store.local_actor("max")
    assert max_row is not None and max_row.suspended_at is None


async def test_deleting_an_account_deletes_its_posts_and_federates_the_deletion(
    network: Network,
) -> None:
    # Given ben, followed from Mastodon, with a published report
    store, settings = network.node.store, network.node.settings
    await add_member(store, settings, "mia", admin=True)
    follow = network.mastodon.follow("alice", f"{TEST_URL}/users/ben")
    await network.mastodon.send("alice", follow, f"{TEST_URL}/users/ben/inbox")
    await network.drain()
    post_url = await network.post()
    await network.drain()
    await sign_in(network.http, "mia")
    # When an admin deletes the account: first a confirmation, then the deletion
    form = {"csrf": await token(network.http, "/admin/members"), "action": "delete"}
    asked = await network.http.post(f"{TEST_URL}/admin/members/ben", data=form)
    assert asked.status_code == 200 and "cannot be undone" in asked.text
    ben = await store.local_actor("ben")
    assert ben is not None and ben.deleted_at is None
    done = await network.http.post(f"{TEST_URL}/admin/members/ben", data={**form, "confirm": "yes"})
    assert done.status_code == 303
    await network.drain()
    # Then the actor and its post are gone, here and (by Delete) on Mastodon
    actor = await network.http.get(
        f"{TEST_URL}/users/ben", headers={"Accept": "application/activity+json"}
    )
    assert actor.status_code == 410 and actor.json()["type"] == "Tombstone"
    assert (await network.http.get(post_url)).status_code == 410
    finger = await network.http.get(
        f"{TEST_URL}/.well-known/webfinger", params={"resource": "acct:ben@conode.example"}
    )
    assert finger.status_code == 410  # as Mastodon: the name is gone, not unknown
    deleted = {activity["object"]["id"] for activity in network.mastodon.received("Delete")}
    assert deleted == {post_url, f"{TEST_URL}/users/ben"}
    assert (await sign_in(network.http, "ben")).status_code == 401
