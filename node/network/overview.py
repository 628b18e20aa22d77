"""The network as one: the feed, the offers board and the directory across linked nodes.

Entries are plain dicts, the same shape for our own posts and for what came through links,
so a page (JSON now, HTML in the web interface) lists them together, newest first.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from node.content import identity
from node.content.publishing import post_id
from node.context import Node
from node.federation.actors import local_actor_by_row_id
from node.storage import Cursor, LinkedPostRow, LinkRow, Page, PostRow, Window

from . import links

FEED_SIZE = 50
OFFER_KINDS = ("offer", "request")


def _when(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


async def _local_entry(node: Node, post: PostRow, authors: dict[int, str | None]) -> dict[str, Any]:
    if post.author_id not in authors:
        author = await local_actor_by_row_id(node.store, node.settings, post.author_id)
        authors[post.author_id] = author.actor_id if author else None
    object_id = post_id(node, post)
    return {
        "id": object_id,
        "kind": post.kind if post.kind in OFFER_KINDS else "post",
        "post_kind": post.kind,
        "title": post.title,
        "summary": post.summary,
        "url": object_id,
        "author": authors[post.author_id],
        "origin": node.settings.url,
        "origin_host": node.settings.host,
        "via": None,
        "local": True,
        "published": _when(post.published_at),
    }


def _linked_entry(row: LinkedPostRow) -> dict[str, Any]:
    document = json.loads(row.document)
    url = document.get("url")
    return {
        "id": row.object_id,
        "kind": row.kind,
        "post_kind": row.type,
        "title": str(document.get("name") or ""),
        "summary": str(document.get("summary") or document.get("content") or ""),
        "url": url if isinstance(url, str) else row.object_id,
        "author": row.origin_actor_id,
        "origin": links.node_url(row.object_id),
        "origin_host": row.origin_host,
        "via": row.via_actor_id,
        "local": False,
        "published": _when(row.published_at),
    }


def _newest_first(entries: list[dict[str, Any]], limit: int) -> list[dict[str, Any]]:
    return sorted(entries, key=lambda entry: entry["published"] or "", reverse=True)[:limit]


async def feed(node: Node, *, limit: int = FEED_SIZE) -> list[dict[str, Any]]:
    """Local and linked posts, reports and offers, newest first."""
    authors: dict[int, str | None] = {}
    local = [await _local_entry(node, p, authors) for p in await node.store.recent_posts(limit)]
    shared = [_linked_entry(row) for row in await node.store.recent_linked_posts(limit=limit)]
    return _newest_first(local + shared, limit)


async def feed_page(node: Node, window: Window) -> Page[dict[str, Any]]:
    """A page of the feed: local and linked entries merged by (published, row id)."""
    local = await node.store.posts_page(window)
    shared = await node.store.linked_posts_page(window)
    authors: dict[int, str | None] = {}
    merged = [
        (Cursor(p.id or 0, p.published_at), await _local_entry(node, p, authors))
        for p in local.items
    ] + [(Cursor(row.id, row.published_at), _linked_entry(row)) for row in shared.items]
    merged.sort(key=lambda pair: (pair[0].moment, pair[0].row_id), reverse=True)
    size = window.size
    if window.backward:
        more = len(merged) > size or bool(local.prev or shared.prev)
        taken = merged[-size:]
        prev = taken[0][0] if more and taken else None
        following = taken[-1][0] if taken else window.cursor
        return Page([entry for _, entry in taken], following, prev)
    more = len(merged) > size or bool(local.next or shared.next)
    taken = merged[:size]
    following = taken[-1][0] if more and taken else None
    prev = taken[0][0] if window.cursor is not None and taken else None
    return Page([entry for _, entry in taken], following, prev)


async def linked_feed(node: Node, *, limit: int) -> list[dict[str, Any]]:
    """Only what came through links, newest first (the home page's network section)."""
    return [_linked_entry(row) for row in await node.store.recent_linked_posts(limit=limit)]


async def offers_board(node: Node, *, limit: int = FEED_SIZE) -> list[dict[str, Any]]:
    """Open offers and requests, here and on linked nodes, newest first."""
    authors: dict[int, str | None] = {}
    local = [
        await _local_entry(node, post, authors) | {"status": offer.status}
        for post, offer in await node.store.offers_board(limit=limit)
        if offer.status == "open"
    ]
    rows = await node.store.recent_linked_posts(limit=limit, kinds=OFFER_KINDS)
    shared = [_linked_entry(row) | {"status": "open"} for row in rows]
    return _newest_first(local + shared, limit)


def link_entry(link: LinkRow) -> dict[str, Any]:
    return {
        "id": link.id,
        "name": link.name,
        "url": links.node_url(link.actor_id),
        "group": link.actor_id,
        "handle": link.handle,
        "state": link.state,
        "members": link.members,
        "last_heard_at": _when(link.last_heard_at),
        "reachable": link.reachable,
        "trust_moderation": link.trust_moderation,
    }


async def directory(node: Node) -> list[dict[str, Any]]:
    """This node first, then every node it is linked with."""
    here = {
        "id": None,
        "name": identity.current(node).name,
        "url": node.settings.url,
        "group": f"{node.settings.url}/groups/{node.settings.group_handle}",
        "handle": f"@{node.settings.group_handle}@{node.settings.host}",
        "state": "self",
        "members": await node.store.count_local_actors("Person"),
        "last_heard_at": None,
        "reachable": True,
    }
    # Whose moderation we trust is our admins' business, not the public's (the CLI shows it).
    shown = [link_entry(link) for link in await node.store.links("linked")]
    return [here] + [{k: v for k, v in e.items() if k != "trust_moderation"} for e in shown]
