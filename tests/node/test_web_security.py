"""The web interface refuses what it must: forms without the session's CSRF token or from
another origin, members on moderator pages, password guessing, redirects off the site."""

from __future__ import annotations

import httpx
import pytest
from starlette.routing import Route

from node.routes import ROUTES
from node.settings import Settings
from node.storage import Store

from ..conftest import TEST_URL
from .conftest import Network
from .web import add_member, sign_in, token

INBOXES = ("/inbox", "/actor/inbox", "/users/{username}/inbox", "/groups/{username}/inbox")


def _form_routes() -> list[str]:
    """Every POST route for people (the inboxes take signed activities, not forms)."""
    paths = []
    for route in ROUTES:
        if (
            isinstance(route, Route)
            and "POST" in (route.methods or ())
            and route.path not in INBOXES
        ):
            paths.append(route.path)
    return paths


async def _fill(network: Network, path: str) -> str:
    post_url = await network.post()
    public_id = post_url.rsplit("/", 1)[-1]
    reply = network.mastodon.reply("alice", post_url, "hello")
    await network.mastodon.send("alice", reply, f"{TEST_URL}/inbox")
    await network.drain()
    note = await network.node.store.note(reply["object"]["id"])
    assert note is not None
    values = {"{public_id}": public_id, "{note_id:int}": str(note.id), "{username}": "ben"}
    values["{token}"] = "an-invitation-token"
    values["{report_id:int}"] = values["{post_id:int}"] = "1"
    for name, value in values.items():
        path = path.replace(name, value)
    assert "{" not in path, f"give {path} a value in _fill"
    return path


@pytest.mark.parametrize("path", _form_routes())
@pytest.mark.parametrize("csrf", [None, "wrong-token"])
async def test_every_form_refuses_a_missing_or_wrong_csrf_token(
    network: Network, settings: Settings, path: str, csrf: str | None
) -> None:
    # Given an admin signed in (so only the token can be what is refused)
    await add_member(network.node.store, settings, "mia", admin=True)
    assert (await sign_in(network.http, "mia")).status_code == 303
    url = TEST_URL + await _fill(network, path)
    form = {"action": "approve", "body": "x", "title": "x", "source": "x", "target": "a.example"}
    if csrf is not None:
        form["csrf"] = csrf
    response = await network.http.post(url, data=form)
    assert response.status_code == 403, response.text
    assert "expired" in response.text


async def test_a_form_with_the_right_token_from_another_origin_is_refused(
    network: Network, settings: Settings
) -> None:
    await add_member(network.node.store, settings, "mia")
    await sign_in(network.http, "mia")
    form = {"csrf": await token(network.http), "title": "T", "body": "B", "action": "publish"}
    foreign = await network.http.post(
        f"{TEST_URL}/write", data=form, headers={"Origin": "https://evil.example"}
    )
    assert foreign.status_code == 403
    ours = await network.http.post(f"{TEST_URL}/write", data=form, headers={"Origin": TEST_URL})
    assert ours.status_code == 303  # the same form from our own pages is published


MODERATOR_PAGES = [
    "/moderation",
    "/moderation/reports",
    "/moderation/blocks",
    "/moderation/log",
    "/moderation/links",
]


@pytest.mark.parametrize("path", [*MODERATOR_PAGES, "/about/edit"])
async def test_a_member_cannot_reach_moderator_pages(
    client: httpx.AsyncClient, store: Store, settings: Settings, path: str
) -> None:
    await add_member(store, settings, "ann")
    await sign_in(client, "ann")
    assert (await client.get(path)).status_code == 403
    form = {"csrf": await token(client), "action": "add", "target": "evil.example"}
    assert (await client.post(path, data=form)).status_code in (403, 405)
    assert await store.blocks() == []


async def test_a_member_cannot_act_on_a_comment(network: Network, settings: Settings) -> None:
    await add_member(network.node.store, settings, "ann")
    await sign_in(network.http, "ann")
    url = TEST_URL + await _fill(network, "/moderation/comments/{note_id:int}")
    form = {"csrf": await token(network.http), "action": "approve"}
    assert (await network.http.post(url, data=form)).status_code == 403
    (comment,) = await network.node.store.notes_with_status("pending")
    assert comment.status == "pending"


async def test_visitors_are_sent_to_sign_in(client: httpx.AsyncClient) -> None:
    for path in [*MODERATOR_PAGES, "/write"]:
        response = await client.get(path)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login?next=")


async def test_the_session_cookie_is_secure_httponly_and_samesite(
    client: httpx.AsyncClient, store: Store, settings: Settings
) -> None:
    await add_member(store, settings, "ann")
    response = await sign_in(client, "ann")
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "secure" in cookie


async def test_signing_out_ends_the_session(
    client: httpx.AsyncClient, store: Store, settings: Settings
) -> None:
    await add_member(store, settings, "ann")
    await sign_in(client, "ann")
    await client.post("/logout", data={"csrf": await token(client)})
    assert (await client.get("/write")).status_code == 303


async def test_sign_in_is_rate_limited_per_account(
    client: httpx.AsyncClient, store: Store, settings: Settings
) -> None:
    await add_member(store, settings, "ann")
    for _ in range(10):
        assert (await sign_in(client, "ann", "wrong password!")).status_code == 401
    # Even the right password is refused now, for a while
    refused = await sign_in(client, "ann")
    assert refused.status_code == 429
    assert "15 minutes" in refused.text


async def test_a_wrong_password_does_not_sign_in(
    client: httpx.AsyncClient, store: Store, settings: Settings
) -> None:
    await add_member(store, settings, "ann")
    response = await sign_in(client, "ann", "not the password")
    assert response.status_code == 401
    assert "do not match" in response.text
    assert (await client.get("/write")).status_code == 303


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/", "/\\evil.example"])
async def test_sign_in_never_redirects_off_the_site(
    client: httpx.AsyncClient, store: Store, settings: Settings, target: str
) -> None:
    await add_member(store, settings, "ann")
    page = await client.get("/login")
    from .web import csrf_of

    form = {"csrf": csrf_of(page.text), "username": "ann", "password": "a-long-enough-password"}
    response = await client.post("/login", data={**form, "next": target})
    assert response.status_code == 303
    assert response.headers["location"] == "/"


async def test_images_and_the_stylesheet_do_not_depend_on_the_session(
    client: httpx.AsyncClient, store: Store, settings: Settings
) -> None:
    # Given a signed-in member, whose pages depend on the cookie
    await add_member(store, settings, "ann")
    await sign_in(client, "ann")
    assert "Cookie" in (await client.get("/write")).headers["vary"]
    # Then cacheable files neither depend on it nor set it: any cache may share them
    for path in ["/static/site.css", "/media/unknown"]:
        response = await client.get(path)
        assert "set-cookie" not in response.headers
        assert "Cookie" not in response.headers.get("vary", ""), path


async def test_sign_in_is_rate_limited_per_address(
    client: httpx.AsyncClient, store: Store, settings: Settings
) -> None:
    await add_member(store, settings, "ann")
    for attempt in range(30):  # guessing many accounts from one address
        assert (await sign_in(client, f"guess{attempt}", "wrong password!")).status_code == 401
    assert (await sign_in(client, "ann")).status_code == 429
