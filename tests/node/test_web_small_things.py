"""The small things a visitor or member notices (issue 15, part 7, and the follow and comment
prompts): summaries follow edits, forms answer in web words, agreements have a page, counts
read as English, handles keep their port, the public directory keeps admins' trust to
itself, the home page has a Follow button and a signed-out reader is asked to sign in."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys

from node.offers import exchanges, matching
from node.storage import RemoteActorRow, utcnow

from ..conftest import TEST_URL
from .conftest import Network
from .test_offers import ALICE, _offer, _responses, _send
from .web import add_member, sign_in, token

HTML = {"Accept": "text/html"}
AP = {"Accept": "application/activity+json"}


async def _write(network: Network, **fields: str) -> str:
    form = {"csrf": await token(network.http), "kind": "report", "action": "publish", **fields}
    made = await network.http.post(f"{TEST_URL}/write", data=form)
    assert made.status_code == 303, made.text[:500]
    return str(made.headers["location"])


async def _edit(network: Network, path: str, **fields: str) -> None:
    page = (await network.http.get(f"{TEST_URL}{path}/edit")).text
    summary = re.search(
        r'name="summary"[^>]*>([^<]*)</textarea>|name="summary"[^>]*value="([^"]*)"', page
    )
    assert summary is not None, "the edit form shows the summary"
    shown = summary.group(1) if summary.group(1) is not None else summary.group(2)
    form = {"csrf": await token(network.http, f"{path}/edit"), "summary": shown, **fields}
    edited = await network.http.post(f"{TEST_URL}{path}/edit", data={**form, "action": "save"})
    assert edited.status_code == 303, edited.text[:500]


async def test_an_edit_regenerates_the_summary_unless_the_author_wrote_one(
    network: Network,
) -> None:
    await add_member(network.node.store, network.node.settings, "ann")
    await sign_in(network.http, "ann")
    generated = await _write(network, title="Litter pick", body="Meet at the bridge.")
    written = await _write(
        network, title="Quiz", body="Questions at eight.", summary="Our own words."
    )
    # When both are edited through the form (which hands the summary back as shown)
    await _edit(network, generated, title="Litter pick", body="Meet at the church instead.")
    await _edit(network, written, title="Quiz", body="Questions at nine.")
    # Then the generated summary follows the new text, and the author's stays
    article = (await network.http.get(f"{TEST_URL}{generated}", headers=AP)).json()
    assert article["summary"] == "Meet at the church instead."
    article = (await network.http.get(f"{TEST_URL}{written}", headers=AP)).json()
    assert article["summary"] == "Our own words."


async def test_web_forms_answer_in_web_words(network: Network) -> None:
    await add_member(network.node.store, network.node.settings, "ann")
    await sign_in(network.http, "ann")
    csrf = await token(network.http)
    for fields in (
        {"kind": "offer", "title": "Help", "body": "B", "hours": "-3"},
        {"kind": "offer", "title": "Help", "body": "B", "expires": "soon"},
        {"kind": "report", "title": " ", "body": "B"},
        {"kind": "report", "title": "T", "body": " "},
    ):
        form = {"csrf": csrf, "action": "publish", **fields}
        answer = await network.http.post(f"{TEST_URL}/write", data=form)
        assert answer.status_code == 400, fields
        (error,) = re.findall(r'<p class="error" role="alert">([^<]*)</p>', answer.text)
        assert "--" not in error and error[:1].isupper(), error


async def test_an_agreement_has_an_html_page_and_its_json(network: Network) -> None:
    object_id = await _offer(network, title="Bike repairs", hours="1")
    reply = network.mastodon.reply("alice", object_id, "I can help")
    await _send(network, network.mastodon, "alice", reply)
    (response,) = await _responses(network, object_id)
    agreement = await matching.match(network.node, None, object_id, response.id)
    page = await network.http.get(agreement.object_id, headers=HTML)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "Bike repairs" in page.text and "@alice@mastodon.example" in page.text
    assert "1 hour<" in page.text
    document = await network.http.get(agreement.object_id, headers=AP)
    assert document.json()["type"] == "Agreement"


async def test_counts_read_as_english(network: Network) -> None:
    url = await network.post("One of each")
    await network.node.store.add_reaction(f"{ALICE}#likes/1", "Like", url, ALICE)
    await network.node.store.add_reaction(f"{ALICE}#boosts/1", "Announce", url, ALICE)
    page = (await network.http.get(url, headers=HTML)).text
    assert "1 like · 1 boost · 0 quotes · 0 comments" in page


async def test_a_handle_keeps_the_port_of_its_server(network: Network) -> None:
    actor_id = "http://127.0.0.1:8765/users/alice"
    row = RemoteActorRow(
        actor_id=actor_id,
        host="127.0.0.1",
        type="Person",
        username="alice",
        name="Alice",
        profile_url=None,
        inbox_url=f"{actor_id}/inbox",
        shared_inbox_url=None,
        key_id=f"{actor_id}#main-key",
        public_key_pem="",
        fetched_at=utcnow(),
    )
    await network.node.store.upsert_remote_actor(row)
    assert await exchanges.handle_of(network.node, actor_id) == "@alice@127.0.0.1:8765"


async def test_the_public_directory_does_not_say_whose_moderation_we_trust(
    network: Network,
) -> None:
    from .test_links import _linked

    await _linked(network)
    directory = (await network.http.get(f"{TEST_URL}/network/directory.json")).json()
    assert len(directory) == 2
    assert all("trust_moderation" not in entry for entry in directory)


async def test_the_home_page_has_a_follow_button(network: Network) -> None:
    page = (await network.http.get(f"{TEST_URL}/", headers=HTML)).text
    form = re.search(r'<form method="get" action="/interact"[^>]*>(.*?)</form>', page, re.S)
    assert form is not None
    assert 'name="uri" value="https://conode.example/groups/community"' in form.group(1)
    assert 'name="intent" value="Follow"' in form.group(1)
    assert '<button type="submit">Follow</button>' in form.group(1)


async def test_a_signed_out_reader_is_asked_to_sign_in_to_comment(network: Network) -> None:
    url = await network.post("Open meeting")
    path = url.removeprefix(TEST_URL)
    page = (await network.http.get(url, headers=HTML)).text
    assert f'<a href="/login?next={path}">Sign in to comment</a>' in page
    await add_member(network.node.store, network.node.settings, "ann")
    await sign_in(network.http, "ann")
    page = (await network.http.get(url, headers=HTML)).text
    assert "Sign in to comment" not in page and 'name="body"' in page


async def test_the_moderation_log_shows_actions_taken_from_the_command_line(
    network: Network,
) -> None:
    # Given an admin blocks a server with the command line, on the node's database
    settings = network.node.settings
    environ = {k: v for k, v in os.environ.items() if not k.startswith("CONODE_")}
    environ.update(
        CONODE_DATABASE_URL=settings.database_url,
        CONODE_KEYS_DIR=str(settings.keys_dir),
        CONODE_URL=settings.url,
    )
    command = [sys.executable, "-m", "node.cli", "block", "add", "spam.example", "--reason", "spam"]
    done = await asyncio.to_thread(
        subprocess.run, command, env=environ, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    # Then the moderation log in the browser shows it, taken from the command line
    await add_member(network.node.store, settings, "mona", admin=True)
    await sign_in(network.http, "mona")
    log = (await network.http.get(f"{TEST_URL}/moderation/log", headers=HTML)).text
    assert re.search(r"<td>command line</td><td>block</td><td>spam\.example</td><td>spam</td>", log)


async def test_a_moderator_edits_and_deletes_any_post_from_its_page(network: Network) -> None:
    store, settings = network.node.store, network.node.settings
    url = await network.post("Off-topic advert", body="Buy things.")
    path = url.removeprefix(TEST_URL)
    # Given a member who is not its author: no Edit link, and neither edit nor delete works
    await add_member(store, settings, "ann")
    await sign_in(network.http, "ann")
    page = (await network.http.get(url, headers=HTML)).text
    assert f'href="{path}/edit"' not in page and "Delete this post" not in page
    assert (await network.http.get(f"{TEST_URL}{path}/edit")).status_code == 403
    form = {"csrf": await token(network.http)}
    assert (await network.http.post(f"{TEST_URL}{path}/delete", data=form)).status_code == 403
    # When a moderator (here an admin) opens it, they may edit it and delete it
    await network.http.post(f"{TEST_URL}/logout", data=form)
    await add_member(store, settings, "mona", admin=True)
    await sign_in(network.http, "mona")
    page = (await network.http.get(url, headers=HTML)).text
    assert f'href="{path}/edit"' in page and "Delete this post" in page
    await _edit(network, path, title="Advert (edited by a moderator)", body="Removed.")
    article = (await network.http.get(url, headers=AP)).json()
    assert article["name"] == "Advert (edited by a moderator)"
    assert article["attributedTo"].endswith("/users/ben")  # still ben's post
    form = {"csrf": await token(network.http)}
    deleted = await network.http.post(f"{TEST_URL}{path}/delete", data=form)
    assert deleted.status_code == 303
    assert (await network.http.get(url, headers=HTML)).status_code == 410
    history = await store.moderation_history()
    assert [h["action"] for h in history][:1] == ["delete_post"]
