"""Which page loads count as a view: a GET for the HTML page from something that looks like a
person's browser. Nothing about the viewer is kept; the count is a bare number per post.

Crawlers and fediverse servers say who they are in User-Agent, usually with a contact URL
("Googlebot/2.1 (+http://www.google.com/bot.html)", Mastodon's "http.rb/… (Mastodon/4.3;
+https://host/)"); link previews and command-line tools likewise name themselves.
"""

from __future__ import annotations

import re

from starlette.requests import Request

_BOT = re.compile(
    r"bot|crawl|spider|slurp|preview|fetch|scan|monitor|http|curl|wget|python|java|go-http|"
    r"ruby|perl|php|node-fetch|axios|headless|lighthouse|mastodon|pleroma|akkoma|misskey|"
    r"gotosocial|lemmy|peertube|friendica|bridgy",
    re.IGNORECASE,
)


def looks_like_a_person(user_agent: str) -> bool:
    return user_agent.startswith("Mozilla/") and _BOT.search(user_agent) is None


def counts_as_view(request: Request) -> bool:
    """Only real GETs: Starlette answers HEAD with the GET endpoint, which must not count."""
    return request.method == "GET" and looks_like_a_person(request.headers.get("user-agent", ""))
