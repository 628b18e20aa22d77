"""host_of: the acct: authority of a URL, and nothing that raises on hostile input."""

from __future__ import annotations

import pytest

from activitypub.webfinger import host_of


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("https://Mastodon.Example/users/a", "mastodon.example"),
        ("https://x.example:443/a", "x.example"),
        ("http://127.0.0.1:8000/users/a", "127.0.0.1:8000"),
        ("https://x.example:99999/a", ""),
        ("not a url", ""),
    ],
)
def test_host_of(url: str, host: str) -> None:
    assert host_of(url) == host
