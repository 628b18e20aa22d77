"""Hashtags and mentions become links: on the post's page and in the federated `content`, in
Mastodon's own markup, with `Hashtag` and `Mention` tags; a mentioned account on another server
is sent the post. A mention nobody answers for stays text."""

from __future__ import annotations

import json
import re

from node.content import publishing

from .conftest import Network

ALICE = "https://mastodon.example/users/alice"
HASHTAG = (
    '<a href="https://conode.example/tags/canalcleanup" class="mention hashtag" rel="tag">'
    "#<span>CanalCleanUp</span></a>"
)
MENTION = (
    '<span class="h-card"><a href="https://mastodon.example/@alice" class="u-url mention"'
    ' rel="noopener noreferrer">@<span>alice</span></a></span>'
)
BODY = (
    "Thanks @alice@mastodon.example and @ghost@mastodon.example for the #CanalCleanUp!\n\n"
    "`#NotATag` and [#NotLinked](https://example.org/)"
)


async def _article(network: Network, url: str) -> dict[str, object]:
    response = await network.http.get(url, headers={"Accept": "application/activity+json"})
    assert response.status_code == 200
    document: dict[str, object] = response.json()
    return document


async def test_hashtags_and_mentions_federate_as_links_with_tags(network: Network) -> None:
    # Given ben writes a report naming alice (on Mastodon), someone unknown, and a hashtag
    url = await network.post("Canal day", body=BODY)
    # Then the Article's content links them as Mastodon does, and its tags name them
    article = await _article(network, url)
    content = str(article["content"])
    assert HASHTAG in content
    assert MENTION in content
    assert "@ghost@mastodon.example" in content and "ghost</span>" not in content
    assert "<code>#NotATag</code>" in content
    assert '<a href="https://example.org/" rel="noopener noreferrer">#NotLinked</a>' in content
    assert {"type": "Hashtag", "name": "#CanalCleanUp", "href": HASHTAG_HREF} in article["tag"]  # type: ignore[operator]
    assert {"type": "Mention", "href": ALICE, "name": "@alice@mastodon.example"} in article["tag"]  # type: ignore[operator]
    assert ALICE in article["cc"]  # type: ignore[operator]
    # and alice's server is sent the Create, so she is told
    await network.drain()
    created = [a for a in network.mastodon.received("Create") if a["object"]["id"] == url]
    assert created and created[0]["object"]["content"] == content


HASHTAG_HREF = "https://conode.example/tags/canalcleanup"


async def test_the_post_page_shows_the_same_links(network: Network) -> None:
    url = await network.post("Canal day", body=BODY)
    page = (await network.http.get(url, headers={"Accept": "text/html"})).text
    assert HASHTAG in page
    assert MENTION in page
    tag_page = (await network.http.get(HASHTAG_HREF, headers={"Accept": "text/html"})).text
    assert "Canal day" in tag_page


async def test_an_edit_links_the_new_text(network: Network) -> None:
    url = await network.post("Canal day", body="Nothing to link.")
    post = await network.node.store.post(url.rsplit("/", 1)[1])
    assert post is not None
    await publishing.edit_post(network.node, post, title=None, body=BODY, summary=None)
    article = await _article(network, url)
    assert HASHTAG in str(article["content"]) and MENTION in str(article["content"])
    stored = await network.node.store.post(post.public_id)
    assert stored is not None
    assert json.loads(stored.mentions) == [{"href": ALICE, "name": "@alice@mastodon.example"}]


async def test_a_member_of_this_node_is_mentioned_without_a_lookup(network: Network) -> None:
    url = await network.post("Thanks", body="Well done @ben@conode.example.")
    content = str((await _article(network, url))["content"])
    assert re.search(r'<a href="https://conode\.example/@ben" class="u-url mention"', content)
