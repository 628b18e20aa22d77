"""The web interface over HTTP, against in-process fediverse servers: writing with an image,
comments that federate, the moderation queue and its record, feeds, and the hand-off to a
visitor's own server."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET

import httpx
import pytest
from PIL import Image

from node.federation import interaction
from node.storage import utcnow
from node.web import pages

from ..conftest import TEST_URL
from .conftest import Network
from .web import add_member, sign_in, token

AP = {"Accept": "application/activity+json"}


def _photo_with_gps() -> bytes:
    image = Image.new("RGB", (40, 30), (200, 40, 40))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif[0x8825] = {1: "N", 2: (51.0, 30.0, 0.0)}  # GPSInfo: where the photo was taken
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    assert Image.open(io.BytesIO(out.getvalue())).getexif()  # the upload does carry it
    return out.getvalue()


async def _write(net: Network, alt: str, image: bytes, action: str = "publish") -> httpx.Response:
    form = {
        "csrf": await token(net.http),
        "kind": "report",
        "title": "Canal clean-up",
        "body": "We cleared the path.",
        "alt": alt,
        "action": action,
    }
    files = {"image": ("photo.jpg", image, "image/jpeg")}
    return await net.http.post(f"{TEST_URL}/write", data=form, files=files)


async def test_a_report_with_an_image_federates_it_with_alt_text_and_no_camera_metadata(
    network: Network,
) -> None:
    await add_member(network.node.store, network.node.settings, "ann")
    await sign_in(network.http, "ann")
    response = await _write(network, "Volunteers by the canal", _photo_with_gps())
    assert response.status_code == 303
    post_url = TEST_URL + response.headers["location"]
    article = (await network.http.get(post_url, headers=AP)).json()
    (image,) = article["attachment"]
    assert image["type"] == "Image" and image["name"] == "Volunteers by the canal"
    assert (image["width"], image["height"]) == (40, 30)
    served = await network.http.get(image["url"])
    assert served.headers["content-type"] == "image/jpeg"
    assert served.headers["x-content-type-options"] == "nosniff"
    assert Image.open(io.BytesIO(served.content)).getexif() == {}
    page = await network.http.get(post_url)
    assert 'alt="Volunteers by the canal"' in page.text


async def test_an_image_without_alt_text_or_that_is_no_image_is_refused(network: Network) -> None:
    await add_member(network.node.store, network.node.settings, "ann")
    await sign_in(network.http, "ann")
    no_alt = await _write(network, "  ", _photo_with_gps())
    assert no_alt.status_code == 400
    assert "alt text" in no_alt.text
    not_image = await _write(network, "a picture", b"<html><script>alert(1)</script>")
    assert not_image.status_code == 400
    assert await network.node.store.recent_posts() == []


async def test_preview_shows_the_rendered_text_and_publishes_nothing(network: Network) -> None:
    await add_member(network.node.store, network.node.settings, "ann")
    await sign_in(network.http, "ann")
    preview = await _write(network, "A photo", _photo_with_gps(), action="preview")
    assert preview.status_code == 200
    assert "Preview: Canal clean-up" in preview.text
    assert 'name="media"' in preview.text  # the image is kept for publishing
    assert await network.node.store.recent_posts() == []


async def test_a_members_comment_federates_as_a_reply_and_shows_threaded(
    network: Network,
) -> None:
    # Given alice (Mastodon) follows ben and commented on his post
    follow = network.mastodon.follow("alice", f"{TEST_URL}/users/ben")
    await network.mastodon.send("alice", follow, f"{TEST_URL}/inbox")
    post_url = await network.post()
    public_id = post_url.rsplit("/", 1)[-1]
    reply = network.mastodon.reply("alice", post_url, "Who brought the gloves?")
    await network.mastodon.send("alice", reply, f"{TEST_URL}/inbox")
    await network.drain()
    (pending,) = await network.node.store.notes_with_status("pending")
    await network.node.store.update_note(pending.id or 0, status="approved")
    # When ann answers alice's comment from the post page
    await add_member(network.node.store, network.node.settings, "ann")
    await sign_in(network.http, "ann")
    form = {"csrf": await token(network.http), "body": "I did!", "in_reply_to": pending.object_id}
    response = await network.http.post(f"{TEST_URL}/posts/{public_id}/comments", data=form)
    assert response.status_code == 303
    await network.drain()
    # Then alice's server got a Create(Note) replying to her comment
    (create,) = [c for c in network.mastodon.received("Create") if c["actor"].endswith("/ann")]
    assert create["object"]["inReplyTo"] == pending.object_id
    # And the page nests the answer under her comment
    page = (await network.http.get(post_url)).text
    alice_at = page.index("Who brought the gloves?")
    answer_at = page.index("I did!")
    assert alice_at < answer_at
    assert page[alice_at:answer_at].count("</article>") == 0  # still inside alice's comment


async def test_moderator_actions_are_recorded_with_who_did_them_and_can_be_undone(
    network: Network,
) -> None:
    post_url = await network.post()
    reply = network.mastodon.reply("alice", post_url, "Nice work")
    await network.mastodon.send("alice", reply, f"{TEST_URL}/inbox")
    await network.drain()
    (comment,) = await network.node.store.notes_with_status("pending")
    await add_member(network.node.store, network.node.settings, "mia", admin=True)
    await sign_in(network.http, "mia")
    queue = await network.http.get(f"{TEST_URL}/moderation")
    assert "Nice work" in queue.text and "@alice@mastodon.example" in queue.text
    url = f"{TEST_URL}/moderation/comments/{comment.id}"
    form = {"csrf": await token(network.http, "/moderation"), "action": "approve_trust"}
    done = await network.http.post(url, data=form)
    assert done.status_code == 303
    assert "approve_trust" in done.headers["location"]
    assert await network.node.store.is_approved_author(comment.author_id)
    undo = await network.http.post(url, data={**form, "action": "pending_untrust"})
    assert undo.status_code == 303
    assert (await network.node.store.note_by_id(comment.id or 0)).status == "pending"  # type: ignore[union-attr]
    assert not await network.node.store.is_approved_author(comment.author_id)
    history = await network.node.store.moderation_history()
    assert [(h["username"], h["action"]) for h in history] == [
        ("mia", "pending_untrust"),
        ("mia", "approve_trust"),
    ]
    log = await network.http.get(f"{TEST_URL}/moderation/log")
    assert "approve trust" in log.text and "@mia" in log.text


async def test_blocking_a_server_from_the_queue_asks_to_confirm_first(network: Network) -> None:
    post_url = await network.post()
    reply = network.mastodon.reply("alice", post_url, "Spam spam")
    await network.mastodon.send("alice", reply, f"{TEST_URL}/inbox")
    await network.drain()
    (comment,) = await network.node.store.notes_with_status("pending")
    await add_member(network.node.store, network.node.settings, "mia", admin=True)
    await sign_in(network.http, "mia")
    url = f"{TEST_URL}/moderation/comments/{comment.id}"
    form = {"csrf": await token(network.http, "/moderation"), "action": "block_server"}
    confirm = await network.http.post(url, data=form)
    assert confirm.status_code == 200 and "Block the server mastodon.example?" in confirm.text
    assert await network.node.store.blocks() == []
    blocked = await network.http.post(url, data={**form, "confirm": "yes"})
    assert blocked.status_code == 303
    assert [b["target"] for b in await network.node.store.blocks()] == ["mastodon.example"]
    assert (await network.node.store.note_by_id(comment.id or 0)).status == "rejected"  # type: ignore[union-attr]


async def test_admins_edit_the_about_page(network: Network) -> None:
    await add_member(network.node.store, network.node.settings, "mia", admin=True)
    await sign_in(network.http, "mia")
    form = {"csrf": await token(network.http, "/about/edit"), "source": "## Rules\n\nBe *kind*."}
    assert (await network.http.post(f"{TEST_URL}/about/edit", data=form)).status_code == 303
    about = await network.http.get(f"{TEST_URL}/about")
    assert "<h2>Rules</h2>" in about.text and "<em>kind</em>" in about.text


async def test_feeds_list_the_nodes_and_each_members_posts(network: Network) -> None:
    await network.post(title="Canal report")
    for path in ["/feed.atom", "/@ben/feed.atom"]:
        response = await network.http.get(TEST_URL + path)
        assert response.headers["content-type"].startswith("application/atom+xml")
        ns = {"a": "http://www.w3.org/2005/Atom"}
        titles = [t.text for t in ET.fromstring(response.content).findall("a:entry/a:title", ns)]
        assert titles == ["Canal report"]
    rss = await network.http.get(f"{TEST_URL}/feed.rss")
    assert ET.fromstring(rss.content).findtext("channel/item/title") == "Canal report"
    assert (await network.http.get(f"{TEST_URL}/@nobody/feed.rss")).status_code == 404


async def test_reply_from_your_own_server_uses_its_webfinger_template(network: Network) -> None:
    post_url = await network.post()
    response = await network.http.get(
        f"{TEST_URL}/interact", params={"uri": post_url, "account": "@alice@mastodon.example"}
    )
    assert response.status_code == 303
    assert response.headers["location"] == (
        "https://mastodon.example/authorize_interaction?uri="
        + post_url.replace(":", "%3A").replace("/", "%2F")
    )
    unknown = await network.http.get(
        f"{TEST_URL}/interact", params={"uri": post_url, "account": "not an address"}
    )
    assert unknown.status_code == 400 and "@you@your.server" in unknown.text


def test_activity_intents_are_preferred_over_the_ostatus_template() -> None:
    jrd = {
        "links": [
            {"rel": "http://ostatus.org/schema/1.0/subscribe", "template": "https://s/a?uri={uri}"},
            {"rel": "https://w3id.org/fep/3b86/Follow", "template": "https://s/f?o={object}"},
            {"rel": "https://w3id.org/fep/3b86/Object", "template": "https://s/o?o={object}"},
        ]
    }
    assert (
        interaction.fill_template(jrd, "Follow", "https://n/@b")
        == "https://s/f?o=https%3A%2F%2Fn%2F%40b"
    )
    assert (
        interaction.fill_template(jrd, "Object", "https://n/p")
        == "https://s/o?o=https%3A%2F%2Fn%2Fp"
    )
    assert (
        interaction.fill_template({"links": jrd["links"][:1]}, "Object", "x") == "https://s/a?uri=x"
    )
    assert interaction.fill_template({"links": []}, "Object", "x") is None
    assert json.dumps(jrd)  # the document is plain JSON


async def test_only_the_author_edits_a_post_and_the_edit_reaches_followers(
    network: Network,
) -> None:
    # Given ann, followed by alice on Mastodon, published a report from the web
    store = network.node.store
    await add_member(store, network.node.settings, "ann")
    await add_member(store, network.node.settings, "mia")
    follow = network.mastodon.follow("alice", f"{TEST_URL}/users/ann")
    await network.mastodon.send("alice", follow, f"{TEST_URL}/inbox")
    await sign_in(network.http, "ann")
    post_url = TEST_URL + (await _write(network, "A photo", _photo_with_gps())).headers["location"]
    await network.drain()
    form = {"title": "Canal clean-up (updated)", "body": "Forty bags.", "action": "save"}
    # When mia, another member, tries to edit it, she is refused
    async with httpx.AsyncClient(transport=network.fediverse) as other:
        await sign_in(other, "mia")
        refused = await other.post(f"{post_url}/edit", data={**form, "csrf": await token(other)})
    assert refused.status_code == 403
    # Then ann's edit is saved and the Update, image included, reaches alice's server
    edited = await network.http.post(
        f"{post_url}/edit", data={**form, "csrf": await token(network.http)}
    )
    assert edited.status_code == 303
    await network.drain()
    (update,) = network.mastodon.received("Update")
    assert update["object"]["name"] == "Canal clean-up (updated)"
    assert update["object"]["attachment"][0]["name"] == "A photo"
    assert "Forty bags." in (await network.http.get(post_url)).text


async def test_moderators_see_reports_with_the_content_and_manage_blocks(
    network: Network,
) -> None:
    post_url = await network.post(title="Canal report")
    flag = network.mastodon.simple("alice", "Flag", [post_url])
    flag["content"] = "This looks like spam"
    await network.mastodon.send("alice", flag, f"{TEST_URL}/inbox")
    await network.drain()
    await add_member(network.node.store, network.node.settings, "mia", admin=True)
    await sign_in(network.http, "mia")
    reports = (await network.http.get(f"{TEST_URL}/moderation/reports")).text
    assert "This looks like spam" in reports and ">Canal report</a>" in reports
    csrf = await token(network.http, "/moderation/blocks")
    blocks_url = f"{TEST_URL}/moderation/blocks"
    added = {"csrf": csrf, "action": "add", "target": "spam.example", "reason": "spam"}
    assert (await network.http.post(blocks_url, data=added)).status_code == 303
    assert "spam.example" in (await network.http.get(blocks_url)).text
    bad = await network.http.post(blocks_url, data={**added, "target": "not a domain"})
    assert bad.status_code == 400 and "neither a domain" in bad.text
    removed = {"csrf": csrf, "action": "remove", "target": "spam.example"}
    assert (await network.http.post(blocks_url, data=removed)).status_code == 303
    assert await network.node.store.blocks() == []
    history = [h["action"] for h in await network.node.store.moderation_history()]
    assert history == ["unblock", "block"]


async def test_the_home_page_names_the_first_members_and_counts_the_rest(
    network: Network, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given four members besides ben, and one more who was deleted
    store, settings = network.node.store, network.node.settings
    for n in range(4):
        await add_member(store, settings, f"member{n}")
    await add_member(store, settings, "gone")
    gone = await store.local_actor("gone")
    assert gone is not None
    await store.update_account(gone.id, deleted_at=utcnow())
    # When the home page names at most three (48 in production, a smaller number here)
    monkeypatch.setattr(pages, "MEMBERS", 3)
    page = await network.http.get(f"{TEST_URL}/")
    # Then it names the first three and counts the other two (the deleted one not at all)
    assert page.status_code == 200
    assert "@member1<" in page.text and "@member2<" not in page.text
    assert "and 2 more." in page.text
    # And NodeInfo counts the same five people
    info = await network.http.get(f"{TEST_URL}/nodeinfo/2.1")
    assert info.json()["usage"]["users"]["total"] == 5
