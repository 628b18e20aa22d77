"""The community's look over HTTP: an admin sets the name, logo, accent colour and header image
on the about page's edit form; every page, the badge, the theme stylesheet and the Group and
instance actors show them; a new name or logo reaches the Group's followers as one `Update`
per server; what is refused changes nothing. And the same from `conode site`."""

from __future__ import annotations

import asyncio
import io
import json
import re
import time
from pathlib import Path

import httpx
from PIL import Image

from node.cache import look

from ..conftest import TEST_URL
from .conftest import Network
from .test_cli import conode, env
from .test_web_profiles import GPS, photo_with_position
from .web import add_member, sign_in, token

__all__ = ["env"]  # the fixture, for the command-line tests

ACCEPT_AP = {"Accept": "application/activity+json"}
GROUP = f"{TEST_URL}/groups/community"


def wide_png() -> bytes:
    """A 1200 by 300 PNG with transparency (a logo as designers send them)."""
    image = Image.new("RGBA", (1200, 300), (20, 120, 60, 0))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


async def _save_look(
    client: httpx.AsyncClient,
    logo: bytes | None = None,
    header: bytes | None = None,
    **fields: str,
) -> httpx.Response:
    form = {"csrf": await token(client, "/about/edit"), "name": "Riverside Timebank"}
    form.update(fields)
    files = {}
    if logo is not None:
        files["logo"] = ("logo.jpg", logo, "image/jpeg")
    if header is not None:
        files["header"] = ("header.png", header, "image/png")
    return await client.post(f"{TEST_URL}/about/look", data=form, files=files or None)


async def _admin_with_followed_group(network: Network) -> None:
    await add_member(network.node.store, network.node.settings, "ann", admin=True)
    for server, user in ((network.mastodon, "alice"), (network.mastodon, "bob"),
                         (network.other, "carol")):  # fmt: skip
        await server.send(user, server.follow(user, GROUP), f"{GROUP}/inbox")
    await network.drain()
    network.mastodon.inbox.clear()
    network.other.inbox.clear()
    await sign_in(network.http, "ann")


def _stylesheet_links(page: str) -> list[str]:
    return re.findall(r'<link rel="stylesheet" href="([^"]+)"', page)


async def test_the_look_shows_on_every_page_and_in_the_group_actor(network: Network) -> None:
    await _admin_with_followed_group(network)
    # When the admin names the community, picks a colour and uploads a logo and a header
    saved = await _save_look(
        network.http,
        logo=photo_with_position(),
        header=wide_png(),
        name="Riverside  Time Bank",
        use_accent="1",
        accent="#E11D48",
    )
    assert saved.status_code == 303, saved.text
    await network.drain()
    # Then every page carries the name, the logo, the header image and the theme stylesheet
    for path in ("/", "/offers", "/about", "/network", "/login"):
        page = (await network.http.get(f"{TEST_URL}{path}")).text
        assert "Riverside Time Bank" in page, path
        assert re.search(r'<img class="site-logo" src="/media/[\w-]+-96"', page), path
        assert re.search(r'<img class="site-banner" src="/media/[\w-]+-1500x500" alt=""', page)
        assert _stylesheet_links(page)[0] == "/static/site.css"
        assert _stylesheet_links(page)[1].startswith("/theme.css?v="), path
    # And the theme sets the accent, white text on it, and link colours that read on each page
    theme_url = _stylesheet_links((await network.http.get(f"{TEST_URL}/")).text)[1]
    theme = await network.http.get(f"{TEST_URL}{theme_url}")
    assert theme.headers["content-type"].startswith("text/css")
    assert "--accent: #e11d48;" in theme.text and "--on-accent: #ffffff;" in theme.text
    assert "prefers-color-scheme: dark" in theme.text
    # And the Group and the instance actor carry the name and the logo as their icon
    for actor_url in (GROUP, f"{TEST_URL}/actor"):
        actor = (await network.http.get(actor_url, headers=ACCEPT_AP)).json()
        assert actor["name"] == "Riverside Time Bank", actor_url
        icon = actor["icon"]
        assert icon["type"] == "Image" and icon["mediaType"] == "image/jpeg"
        assert icon["url"].startswith(f"{TEST_URL}/media/")
    # And the logo comes from our origin, square, without the camera's metadata
    served = await network.http.get(icon["url"])
    assert served.status_code == 200 and served.headers["content-type"] == "image/jpeg"
    logo = Image.open(io.BytesIO(served.content))
    assert logo.size == (400, 400) and not logo.getexif()
    assert b"PhoneMaker" not in served.content and GPS not in logo.getexif()
    header_path = re.findall(r'class="site-banner" src="([^"]+)"', page)[0]
    header = Image.open(io.BytesIO((await network.http.get(f"{TEST_URL}{header_path}")).content))
    assert header.size == (1500, 500)
    # And each follower server got one Update of the Group, at its shared inbox
    for server in (network.mastodon, network.other):
        updates = [r for r in server.inbox if r.activity.get("type") == "Update"]
        assert [r.path for r in updates] == ["/inbox"], server.host
        assert updates[0].activity["actor"] == GROUP
        assert updates[0].activity["object"]["icon"]["url"] == icon["url"]
        assert updates[0].activity["object"]["name"] == "Riverside Time Bank"
    # And the badge and NodeInfo use the name, the badge the colour and the logo
    badge = (await network.http.get(f"{TEST_URL}/badge.svg")).text
    assert "Riverside Time Bank" in badge and 'fill="#e11d48"' in badge
    assert "data:image/jpeg;base64," in badge
    nodeinfo = (await network.http.get(f"{TEST_URL}/nodeinfo/2.1")).json()
    assert nodeinfo["metadata"]["nodeName"] == "Riverside Time Bank"


async def test_a_light_accent_gets_dark_text_and_darker_links(network: Network) -> None:
    await _admin_with_followed_group(network)
    assert (await _save_look(network.http, use_accent="1", accent="#fc0")).status_code == 303
    theme_url = _stylesheet_links((await network.http.get(f"{TEST_URL}/")).text)[1]
    theme = (await network.http.get(f"{TEST_URL}{theme_url}")).text
    assert "--accent: #ffcc00;" in theme and "--on-accent: #000000;" in theme
    link = re.search(r"--link: (#[0-9a-f]{6});", theme)
    assert link is not None and _contrast(link.group(1), "#ffffff") >= 4.5
    dark_link = re.findall(r"--link: (#[0-9a-f]{6});", theme)[1]
    assert _contrast(dark_link, "#24242a") >= 4.5
    # Nothing shown to other servers changed (the name and logo are the same): no Update
    await network.drain()
    assert network.mastodon.received("Update") == []
    # And unticking the colour goes back to the stylesheet's own: no theme linked
    assert (await _save_look(network.http)).status_code == 303
    assert len(_stylesheet_links((await network.http.get(f"{TEST_URL}/")).text)) == 1


def _contrast(a: str, b: str) -> float:
    """WCAG 2's formula, written out here so the test does not trust the code it checks."""

    def lum(colour: str) -> float:
        values = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        r, g, b = (v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4 for v in values)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    high, low = sorted((lum(a), lum(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


async def test_what_is_refused_changes_nothing(network: Network) -> None:
    await _admin_with_followed_group(network)
    store = network.node.store
    bad_colour = await _save_look(network.http, name="Other", use_accent="1", accent="red;}")
    assert bad_colour.status_code == 400 and "is not a colour" in bad_colour.text
    fake = b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>"
    bad_logo = await _save_look(network.http, logo=fake, name="Other")
    assert bad_logo.status_code == 400 and "not an image" in bad_logo.text
    no_name = await _save_look(network.http, name="   ")
    assert no_name.status_code == 400 and "1 to 100 characters" in no_name.text
    assert (await store.site_identity()).updated_at is None  # nothing stored
    group = await store.local_actor("community")
    assert group is not None and group.display_name != "Other" and group.avatar_id is None
    await network.drain()
    assert network.mastodon.received("Update") == []


async def test_only_admins_change_the_look(network: Network) -> None:
    await add_member(network.node.store, network.node.settings, "dan")
    await sign_in(network.http, "dan")
    form = {"csrf": await token(network.http, "/settings"), "name": "Taken Over"}
    refused = await network.http.post(f"{TEST_URL}/about/look", data=form)
    assert refused.status_code == 403
    assert (await network.node.store.site_identity()).name is None


async def test_removing_the_logo_federates_and_deletes_it(network: Network) -> None:
    await _admin_with_followed_group(network)
    await _save_look(network.http, logo=photo_with_position())
    await network.drain()
    first = (await network.http.get(GROUP, headers=ACCEPT_AP)).json()["icon"]["url"]
    assert (await _save_look(network.http, no_logo="1")).status_code == 303
    await network.drain()
    assert len(network.mastodon.received("Update")) == 2
    assert "icon" not in (await network.http.get(GROUP, headers=ACCEPT_AP)).json()
    assert (await network.http.get(first)).status_code == 404
    assert 'class="site-logo"' not in (await network.http.get(f"{TEST_URL}/")).text


# --- the command line --------------------------------------------------------------------------


def test_conode_site_sets_and_shows_the_look(env: dict[str, str], tmp_path: Path) -> None:
    assert conode(env, "init").returncode == 0
    logo = tmp_path / "logo.jpg"
    logo.write_bytes(photo_with_position())
    changed = conode(env, "site", "set", "--name", "Canal Timebank", "--accent", "#1B6B2A",
                     "--logo", str(logo))  # fmt: skip
    assert changed.returncode == 0, changed.stderr
    shown = json.loads(conode(env, "site", "show", "--json").stdout)
    assert shown["name"] == "Canal Timebank" and shown["accent"] == "#1b6b2a"
    assert shown["text_on_accent"] == "#ffffff"
    assert shown["logo"].startswith("http://127.0.0.1:8000/media/") and shown["header"] is None
    removed = conode(env, "site", "set", "--no-logo", "--no-accent")
    assert removed.returncode == 0, removed.stderr
    shown = json.loads(conode(env, "site", "show", "--json").stdout)
    assert shown["logo"] is None and shown["accent"] is None and shown["name"] == "Canal Timebank"


def test_conode_site_errors_are_sentences(env: dict[str, str], tmp_path: Path) -> None:
    assert conode(env, "init").returncode == 0
    for args, words in (
        (["--accent", "blue"], "is not a colour"),
        (["--logo", str(tmp_path / "missing.png")], "cannot read the logo"),
        ([], "nothing to change"),
        (["--name", ""], "1 to 100 characters"),
    ):
        result = conode(env, "site", "set", *args)
        assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
        assert words in result.stderr, result.stderr
    not_image = tmp_path / "notes.txt"
    not_image.write_text("hello")
    result = conode(env, "site", "set", "--header", str(not_image))
    assert result.returncode == 2 and "not an image" in result.stderr
    shown = json.loads(conode(env, "site", "show", "--json").stdout)
    assert shown["name"] == "Riverside Timebank" and shown["header"] is None


async def test_a_change_from_another_process_shows_within_seconds(network: Network) -> None:
    # Given a page served (so this process holds the look), when another process (here: the
    # store directly, as `conode site set` writes it) renames the community
    assert "Riverside Timebank" in (await network.http.get(f"{TEST_URL}/")).text
    await network.node.store.save_site_identity(None, name="Canal Commons")
    # Then pages show the new name within FRESH_SECONDS, without a restart
    deadline = time.monotonic() + look.FRESH_SECONDS + 3
    while "Canal Commons" not in (await network.http.get(f"{TEST_URL}/")).text:
        assert time.monotonic() < deadline, "the new name never showed"
        await asyncio.sleep(0.2)
