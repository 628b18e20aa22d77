"""The public members list (/members): everyone who may sign in, with a picture (theirs or a
placeholder), name, handle and a link to their profile, in keyset pages; suspended and
deleted accounts are not listed. The admins' own members page stays theirs."""

from __future__ import annotations

import re

from node.storage import utcnow

from ..conftest import TEST_URL
from .conftest import Network
from .test_web_paging import _walk
from .web import add_many_members, add_member, sign_in

ENTRY = re.compile(
    r'<li><a href="https://conode\.example/@(\w+)"><img class="avatar" src="/@\1/avatar" alt=""'
)


async def test_every_member_is_reachable_on_the_public_list_by_rel_next(
    network: Network,
) -> None:
    # Given ben and 130 more members (over two pages of 60)
    await add_many_members(network.node.store, 130)
    # When a visitor follows rel="next" from /members
    found, pages = await _walk(network.http, "/members", ENTRY)
    # Then every one is listed once, with picture, profile link and handle, in join order
    assert pages == 3
    assert found == ["ben", *[f"member{n:03}" for n in range(130)]]
    first = (await network.http.get(f"{TEST_URL}/members")).text
    assert '<span class="name">Member 0</span>' in first
    assert '<span class="handle">@member000@conode.example</span>' in first
    # And each picture answers, a placeholder for those who set none
    avatar = await network.http.get(f"{TEST_URL}/@member000/avatar")
    assert avatar.status_code == 200
    assert avatar.headers["content-type"].startswith("image/svg+xml")


async def test_suspended_and_deleted_members_are_not_listed(network: Network) -> None:
    store, settings = network.node.store, network.node.settings
    for name in ("kept", "paused", "gone"):
        await add_member(store, settings, name)
    for name, column in (("paused", "suspended_at"), ("gone", "deleted_at")):
        row = await store.local_actor(name)
        assert row is not None
        await store.update_account(row.id, **{column: utcnow()})
    listed, _ = await _walk(network.http, "/members", ENTRY)
    assert listed == ["ben", "kept"]
    # The home page links to the list
    assert 'href="/members"' in (await network.http.get(f"{TEST_URL}/")).text


async def test_the_admins_members_page_stays_theirs(network: Network) -> None:
    await add_member(network.node.store, network.node.settings, "dana")
    await sign_in(network.http, "dana")
    refused = await network.http.get(f"{TEST_URL}/admin/members")
    assert refused.status_code == 403
    public = await network.http.get(f"{TEST_URL}/members")
    assert public.status_code == 200
    assert "invitation" not in public.text.lower()
