"""The inbox's block check keeps the server names of each origin it has seen
(node/moderation/rules.py): what it keeps must be what server_names says for the whole URL."""

from __future__ import annotations

import pytest

from node.moderation import rules


@pytest.mark.parametrize(
    "url",
    [
        "https://mastodon.example/users/alice",
        "https://Social.Example.ORG:8443/users/bob/statuses/1",
        "https://user@sub.example.net/notes/1?x=1#y",
        "http://[2001:db8::1]:8080/inbox",
        "https://example.com?query/with/slashes",
        "https://example.com#frag/with/slash",
        "https://example.com",
        "https://bad:port/x",
        "acct:alice@example.com",
        "not a url",
    ],
)
def test_the_kept_names_of_an_origin_are_the_urls_own(url: str) -> None:
    assert list(rules._origin_names(url)) == rules.server_names(url)
