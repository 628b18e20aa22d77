"""Helpers for tests of the web interface over HTTP: members with passwords, signing in the
way a browser does (the form's CSRF token, then the session cookie)."""

from __future__ import annotations

import re

import httpx

from node.accounts import passwords
from node.federation import actors
from node.ops import vault
from node.settings import Settings
from node.storage import Store

from ..conftest import TEST_URL

PASSWORD = "a-long-enough-password"
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


async def add_member(store: Store, settings: Settings, name: str, *, admin: bool = False) -> None:
    await actors.create_actor(
        store,
        vault.load_secret(settings.secret_path),
        username=name,
        kind="Person",
        display_name=name.title(),
        is_admin=admin,
        password_hash=passwords.hash_password(PASSWORD),
    )


async def add_many_members(store: Store, count: int) -> None:
    """member000, member001…, with ben's keys (making that many key pairs takes a minute)."""
    ben = await store.local_actor("ben")
    assert ben is not None
    for n in range(count):
        await store.insert_local_actor(
            username=f"member{n:03}",
            kind="Person",
            display_name=f"Member {n}",
            public_key_pem=ben.public_key_pem,
            private_key_sealed=ben.private_key_sealed,
        )


def csrf_of(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "the page has no form with a CSRF token"
    return match.group(1)


async def sign_in(client: httpx.AsyncClient, name: str, password: str = PASSWORD) -> httpx.Response:
    page = await client.get(f"{TEST_URL}/login")
    form = {"csrf": csrf_of(page.text), "username": name, "password": password, "next": "/"}
    return await client.post(f"{TEST_URL}/login", data=form)


async def token(client: httpx.AsyncClient, path: str = "/write") -> str:
    """The signed-in session's CSRF token, read from a page with a form."""
    return csrf_of((await client.get(f"{TEST_URL}{path}")).text)
