"""Posts carry the language they were written in (issue 15): chosen on the write form (the
author's own language by default, else the node's) or with `conode post create --language`;
federated as `contentMap`/`nameMap`/`summaryMap` beside `content`, as Mastodon and GoToSocial
send them; marked with `lang` on the post's page and in the lists. A reply whose `contentMap`
names one language is shown marked with it. Through the real app over HTTP."""

from __future__ import annotations

import dataclasses
from typing import Any

from activitypub import objects
from node.content import publishing
from node.federation.actors import local_actor
from node.offers import proposals as offers
from node.storage import PostRow

from ..conftest import TEST_URL
from ..jsonld import predicates, undefined_terms
from .conftest import Network
from .test_cli import env
from .test_offers_cli import Run, in_process
from .web import add_member, sign_in, token

__all__ = ["env", "in_process"]  # the fixtures, shared with test_cli and test_offers_cli

DANA = f"{TEST_URL}/users/dana"
AS = "https://www.w3.org/ns/activitystreams#"


async def _dana(network: Network) -> None:
    """dana, a member, signed in; alice on Mastodon follows her."""
    await add_member(network.node.store, network.node.settings, "dana")
    await sign_in(network.http, "dana")
    follow = network.mastodon.follow("alice", DANA)
    response = await network.mastodon.send("alice", follow, f"{TEST_URL}/inbox")
    assert response.status_code == 202, response.text
    await network.drain()


async def _write(network: Network, **fields: str) -> Any:
    csrf = await token(network.http, "/write")
    form = {"csrf": csrf, "kind": "report", "title": "Frühjahrsputz", "action": "publish"}
    form |= {"body": "Wir haben den Kanalweg geräumt. #Kanal", "summary": "Der Weg ist frei."}
    return await network.http.post(f"{TEST_URL}/write", data=form | fields)


async def _written(network: Network, response: Any) -> PostRow:
    assert response.status_code == 303, response.text
    post = await network.node.store.post(response.headers["location"].rsplit("/", 1)[1])
    assert post is not None
    return post


async def test_a_post_written_in_german_federates_its_content_map(network: Network) -> None:
    # Given alice on Mastodon follows dana, who writes in German on the form
    await _dana(network)
    post = await _written(network, await _write(network, language="de"))
    await network.drain()
    # Then her server got the Article with its language beside the plain properties
    (create,) = network.mastodon.received("Create")
    article = create["object"]
    assert article["contentMap"] == {"de": article["content"]}
    assert article["nameMap"] == {"de": "Frühjahrsputz"}
    assert article["summaryMap"] == {"de": "Der Weg ist frei."}
    # And the maps are ActivityStreams terms a JSON-LD reader understands
    assert not [t for t in undefined_terms(create) if "Map" in t]
    assert {AS + "content", AS + "name", AS + "summary"} <= predicates(create)
    # And the post's page, the home page and her profile mark it German, in an English page
    page = (await network.http.get(f"{TEST_URL}/posts/{post.public_id}")).text
    assert '<html lang="en">' in page and '<article class="post" lang="de">' in page
    marked = f'aria-labelledby="post-{post.public_id}" lang="de">'
    assert marked in (await network.http.get(f"{TEST_URL}/")).text
    assert marked in (await network.http.get(f"{TEST_URL}/@dana")).text
    tag = (await network.http.get(f"{TEST_URL}/tags/kanal")).text
    assert f'<li lang="de"><a href="{TEST_URL}/posts/{post.public_id}">' in tag


async def test_an_offer_federates_its_content_map_and_name_map(network: Network) -> None:
    await _dana(network)
    fields = {"kind": "offer", "title": "Hilfe im Garten", "hours": "2", "summary": ""}
    post = await _written(network, await _write(network, language="de", **fields))
    await network.drain()
    (create,) = network.mastodon.received("Create")
    note = create["object"]
    assert note["contentMap"] == {"de": note["content"]}
    assert note["nameMap"] == {"de": "Hilfe im Garten"}
    assert "summaryMap" not in note  # an offer's Note has no summary
    offers_page = (await network.http.get(f"{TEST_URL}/offers")).text
    assert f'aria-labelledby="offer-{post.public_id}" lang="de">' in offers_page


async def test_the_form_offers_the_authors_language_and_refuses_others(network: Network) -> None:
    # Given dana has not chosen a language: the form offers the node's
    await _dana(network)
    form = (await network.http.get(f"{TEST_URL}/write")).text
    assert '<option value="en" selected>English</option>' in form
    # When she chooses German for the pages, the form offers German
    csrf = await token(network.http, "/settings")
    await network.http.post(f"{TEST_URL}/settings/language", data={"csrf": csrf, "language": "de"})
    form = (await network.http.get(f"{TEST_URL}/write")).text
    assert '<option value="de" selected>Deutsch</option>' in form
    # A language the node does not offer is refused, and nothing is published
    refused = await _write(network, language="xx")
    assert refused.status_code == 400 and "Sprache &#39;xx&#39; gibt es hier nicht" in refused.text
    assert network.mastodon.received("Create") == []
    # Sent without one, the post is in her language
    assert (await _written(network, await _write(network, language=""))).language == "de"


async def test_without_a_choice_the_post_is_in_the_nodes_language(network: Network) -> None:
    row = await network.node.store.local_actor("ben")
    assert row is not None and row.language is None
    author = local_actor(network.node.settings, row)
    draft = publishing.Draft("report", "Spring", "Text")
    assert (await publishing.create_post(network.node, author, draft)).language == "en"
    german = dataclasses.replace(network.node, settings=dataclasses.replace(
        network.node.settings, language="de"))  # fmt: skip
    assert (await publishing.create_post(german, author, draft)).language == "de"
    offer = publishing.Draft("offer", "Help", "Text", language="de")
    assert (await offers.create_offer(german, author, offer, offers.OfferDraft())).language == "de"


async def test_a_reply_in_one_language_is_marked_with_it(network: Network) -> None:
    post_url = await network.post()
    await network.node.store.approve_author(network.mastodon.actor_id("alice"))
    await network.node.store.approve_author(network.mastodon.actor_id("bob"))
    for name, text, language in (("alice", "Gut gemacht", "de"), ("bob", "Well done", None)):
        reply = network.mastodon.reply(name, post_url, text, language=language)
        response = await network.mastodon.send(name, reply, f"{TEST_URL}/inbox")
        assert response.status_code == 202, response.text
    await network.drain()
    page = (await network.http.get(post_url)).text
    assert '<div class="content" lang="de"><p>Gut gemacht</p></div>' in page
    assert '<div class="content"><p>Well done</p></div>' in page


def test_only_a_single_language_tag_is_taken_from_a_content_map() -> None:
    assert objects.written_language({"contentMap": {"de": "x"}}) == "de"
    assert objects.written_language({"contentMap": {"pt-BR": "x"}}) == "pt-BR"
    assert objects.written_language({"contentMap": {"de": "x", "en": "y"}}) is None
    assert objects.written_language({"contentMap": {'de" onload="x': "x"}}) is None
    assert objects.written_language({"contentMap": {"x" * 40: "x"}}) is None
    assert objects.written_language({"contentMap": "de"}) is None
    assert objects.written_language({}) is None


def test_conode_post_create_takes_a_language(in_process: Run) -> None:
    code, _, err = in_process("init")
    assert code == 0, err
    assert in_process("user", "create", "ben")[0] == 0
    post = ["post", "create", "ben", "--kind", "blog", "--title", "T", "--body", "B"]
    code, out, err = in_process(*post, "--language", "de")
    assert code == 0, err and out.startswith("http")
    code, out, err = in_process(*post, "--language", "klingon")
    assert code == 2 and out == ""
    assert err.strip().endswith("There is no language 'klingon' here; choose one of en, de.")
    assert "Traceback" not in err
