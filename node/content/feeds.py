"""RSS 2.0 and Atom feeds of the node's posts and of each member's, built with feedgen."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from feedgen.feed import FeedGenerator

from node.context import Node
from node.federation.actors import LocalActor
from node.storage import PostRow

from .publishing import post_id

FEED_SIZE = 20
Format = Literal["atom", "rss"]
MEDIA_TYPES: dict[Format, str] = {
    "atom": "application/atom+xml; charset=utf-8",
    "rss": "application/rss+xml; charset=utf-8",
}


@dataclass(frozen=True)
class FeedInfo:
    title: str
    page_url: str  # the HTML page the feed follows
    feed_url: str  # the feed itself (its id, and rel=self)
    subtitle: str


def _entry(feed: FeedGenerator, node: Node, post: PostRow, author: LocalActor | None) -> None:
    url = post_id(node, post)
    entry = feed.add_entry(order="append")
    entry.id(url)
    entry.title(post.title)
    entry.link(href=url)
    entry.published(post.published_at)
    entry.updated(post.updated_at or post.published_at)
    entry.summary(post.summary)
    entry.content(post.content_html, type="html")
    if author is not None:
        entry.author(name=author.row.display_name, uri=author.profile_url)


def render_feed(
    node: Node,
    info: FeedInfo,
    posts: Sequence[tuple[PostRow, LocalActor | None]],
    kind: Format,
) -> bytes:
    feed = FeedGenerator()
    feed.id(info.feed_url)
    feed.title(info.title)
    feed.subtitle(info.subtitle)
    feed.link(href=info.page_url, rel="alternate")
    feed.link(href=info.feed_url, rel="self")
    feed.language("en")
    latest = [post.updated_at or post.published_at for post, _ in posts]
    if latest:
        feed.updated(max(latest))
    for post, author in posts:
        _entry(feed, node, post, author)
    output: bytes = feed.atom_str(pretty=True) if kind == "atom" else feed.rss_str(pretty=True)
    return output
