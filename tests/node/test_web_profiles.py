"""Profiles over HTTP: a member edits name, bio and picture on /settings; the actor JSON
carries `name`, `summary` and `icon`; the picture is served from our origin without its camera
metadata; one `Update(Person)` reaches each follower server's shared inbox."""

from __future__ import annotations

import io

import httpx
from PIL import Image

from ..conftest import TEST_URL
from .conftest import Network
from .web import add_member, sign_in, token

ACCEPT_AP = {"Accept": "application/activity+json"}
GPS = 0x8825


def photo_with_position() -> bytes:
    """A camera-style JPEG with a GPS position in its EXIF."""
    image = Image.new("RGB", (640, 480), (200, 80, 40))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[GPS] = {1: "N", 2: (51.0, 30.0, 0.0)}
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


async def _save(
    client: httpx.AsyncClient, picture: bytes | None = None, **fields: str
) -> httpx.Response:
    form = {"csrf": await token(client, "/settings"), "display_name": "Ann", "bio": "", "email": ""}
    form.update(fields)
    files = {"avatar": ("me.jpg", picture, "image/jpeg")} if picture is not None else None
    return await client.post(f"{TEST_URL}/settings/profile", data=form, files=files)


async def _followed_by_three(network: Network, name: str) -> None:
    """alice and bob on Mastodon (one shared inbox), carol on the other server."""
    target = f"{TEST_URL}/users/{name}"
    for server, user in (
        (network.mastodon, "alice"),
        (network.mastodon, "bob"),
        (network.other, "carol"),
    ):
        await server.send(user, server.follow(user, target), f"{target}/inbox")
    await network.drain()
    network.mastodon.inbox.clear()
    network.other.inbox.clear()


async def _ann_followed_and_signed_in(network: Network) -> None:
    await add_member(network.node.store, network.node.settings, "ann")
    await _followed_by_three(network, "ann")
    await sign_in(network.http, "ann")


async def test_a_profile_edit_shows_in_the_actor_and_federates_once_per_server(
    network: Network,
) -> None:
    settings = network.node.settings
    await _ann_followed_and_signed_in(network)
    # When ann saves a new name, a bio and a photo taken with a phone
    bio = "I fix **bikes**. <script>alert(1)</script>"
    saved = await _save(network.http, photo_with_position(), display_name="Ann Lee", bio=bio)
    assert saved.status_code == 303, saved.text
    await network.drain()
    # Then her actor carries the name, the sanitised bio and the picture
    actor = (await network.http.get(f"{TEST_URL}/users/ann", headers=ACCEPT_AP)).json()
    assert actor["name"] == "Ann Lee"
    assert "<strong>bikes</strong>" in actor["summary"] and "<script" not in actor["summary"]
    icon = actor["icon"]
    assert icon["type"] == "Image" and icon["mediaType"] == "image/jpeg"
    assert icon["url"].startswith(f"{settings.url}/media/")
    # And the picture comes from our origin, square, with no camera metadata left
    served = await network.http.get(icon["url"])
    assert served.status_code == 200 and served.headers["content-type"] == "image/jpeg"
    picture = Image.open(io.BytesIO(served.content))
    assert picture.size == (400, 400)
    assert not picture.getexif() and b"PhoneMaker" not in served.content
    # And each follower server got one Update of the Person, at its shared inbox
    for server in (network.mastodon, network.other):
        updates = [r for r in server.inbox if r.activity.get("type") == "Update"]
        assert [r.path for r in updates] == ["/inbox"], server.host
        assert updates[0].activity["object"]["icon"]["url"] == icon["url"]
        assert updates[0].activity["actor"] == f"{TEST_URL}/users/ann"
    # And the profile page shows the new name
    page = await network.http.get(f"{TEST_URL}/@ann")
    assert "Ann Lee" in page.text and "<strong>bikes</strong>" in page.text
    assert icon["url"].removeprefix(settings.url) in page.text and "<script>" not in page.text


async def test_a_refused_picture_changes_nothing(network: Network) -> None:
    store = network.node.store
    await _ann_followed_and_signed_in(network)
    fake = b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>"
    refused = await _save(network.http, fake, display_name="Someone Else")
    assert refused.status_code == 400 and "not an image" in refused.text
    bad_mail = await _save(network.http, None, display_name="X", email="a@b.c\r\nBcc: x@y.z")
    assert bad_mail.status_code == 400
    ann = await store.local_actor("ann")
    assert ann is not None and ann.display_name == "Ann" and ann.avatar_id is None
    assert ann.email is None
    await network.drain()
    assert network.mastodon.received("Update") == []


async def test_an_unchanged_profile_sends_no_update_and_a_removed_picture_does(
    network: Network,
) -> None:
    await _ann_followed_and_signed_in(network)
    await _save(network.http, photo_with_position())
    await network.drain()
    first = (await network.http.get(f"{TEST_URL}/users/ann", headers=ACCEPT_AP)).json()
    assert await _save(network.http, None, email="ann@example.org") is not None
    await network.drain()
    assert len(network.mastodon.received("Update")) == 1  # the address is not public
    removed = await _save(network.http, None, no_avatar="1")
    assert removed.status_code == 303
    await network.drain()
    assert len(network.mastodon.received("Update")) == 2
    actor = (await network.http.get(f"{TEST_URL}/users/ann", headers=ACCEPT_AP)).json()
    assert "icon" not in actor
    assert (await network.http.get(first["icon"]["url"])).status_code == 404


async def test_a_profile_lists_the_members_open_offers_and_requests(network: Network) -> None:
    from node.content import publishing
    from node.federation.actors import local_actor
    from node.offers import proposals as offers

    store, settings = network.node.store, network.node.settings
    await add_member(store, settings, "ann")
    await add_member(store, settings, "bob")
    made = {}
    for name, kind, title in (
        ("ann", "offer", "Lifts to the market"),
        ("ann", "request", "Help with a fence"),
        ("ann", "offer", "Bread baking"),
        ("bob", "offer", "Bike repairs"),
    ):
        row = await store.local_actor(name)
        assert row is not None
        draft = publishing.Draft(kind, title, f"{title}, gladly.")
        terms = offers.OfferDraft(category="skills", hours="1")
        made[title] = await offers.create_offer(
            network.node, local_actor(settings, row), draft, terms
        )
    ann_row = await store.local_actor("ann")
    assert ann_row is not None
    await offers.close(
        network.node, local_actor(settings, ann_row), made["Bread baking"].public_id, "withdrawn"
    )
    page = await network.http.get(f"{TEST_URL}/@ann")
    assert page.status_code == 200
    section = page.text.split('id="open-offers-heading"', 1)[1].split("</section>", 1)[0]
    for title in ("Lifts to the market", "Help with a fence"):
        assert f'<a href="/posts/{made[title].public_id}">{title}</a>' in section
    assert "Bread baking" not in section and "Bike repairs" not in section
    bob_page = await network.http.get(f"{TEST_URL}/@bob")
    assert "Bike repairs" in bob_page.text.split('id="open-offers-heading"', 1)[1]
