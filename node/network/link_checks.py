"""Watching linked nodes: are they reachable, how many members, and catching up on what we
missed while one of us was down.

The worker checks each linked node every CHECK_INTERVAL (and once after this process starts)
by reading its NodeInfo. After a restart, or when a node that did not answer answers again, we
read its Group's outbox from the newest page down to a little before we last heard from it,
and take each Announce as if it had been delivered (it is verified at the origin the same way).
"""

from __future__ import annotations

import logging
import os
from datetime import datetime, timedelta

from activitypub import webfinger
from activitypub.vocab import Document, id_of, type_of
from node.context import Node
from node.federation import remote
from node.storage import LinkRow, utcnow

from . import shared_blocks, sharing
from .links import node_url, nodeinfo

logger = logging.getLogger(__name__)

CHECK_INTERVAL = timedelta(minutes=5)
CHECK_ENV = "CONODE_LINK_CHECK_SECONDS"  # a shorter interval, for tests and demos
# Items published this long before we last heard from a node are read again (clock skew, and
# an item that was in flight when it went down); a repeat costs one lookup, no fetch.
CATCH_UP_MARGIN = timedelta(minutes=10)
MAX_CATCH_UP_PAGES = 5  # 100 items: beyond that a node has been gone too long to replay it

# Links checked by this process since it started: the first check of each catches up.
_CHECKED: set[tuple[str, str]] = set()


def interval() -> timedelta:
    value = os.environ.get(CHECK_ENV, "").strip()
    return timedelta(seconds=float(value)) if value else CHECK_INTERVAL


async def members_of(node: Node, link: LinkRow) -> int | None:
    """The linked node's member count from its NodeInfo; raises RemoteError if it is down."""
    info = await nodeinfo(node, node_url(link.actor_id))
    usage = info.get("usage")
    users = usage.get("users") if isinstance(usage, dict) else None
    total = users.get("total") if isinstance(users, dict) else None
    return total if isinstance(total, int) else None


async def check_due(node: Node) -> int:
    """Check every linked node whose check is due; returns how many were checked."""
    checked = 0
    now = utcnow()
    for link in await node.store.links("linked"):
        key = (node.settings.url, link.actor_id)
        if key in _CHECKED and link.checked_at and now - link.checked_at < interval():
            continue
        catch_up = key not in _CHECKED or link.reachable is False
        _CHECKED.add(key)
        await check(node, link, catch_up=catch_up)
        checked += 1
    return checked


async def check(node: Node, link: LinkRow, *, catch_up: bool) -> None:
    try:
        members = await members_of(node, link)
    except remote.RemoteError as exc:
        logger.info("linked node %s is unreachable: %s", link.host, exc.reason)
        await node.store.save_link(link.actor_id, reachable=False, checked_at=utcnow())
        return
    since = link.last_heard_at
    await node.store.save_link(
        link.actor_id, reachable=True, members=members, checked_at=utcnow(), last_heard_at=utcnow()
    )
    if catch_up:
        await read_outbox(node, link, since)
    if link.trust_moderation:
        await shared_blocks.take_blocks(node, link)


async def _outbox_first_page(node: Node, link: LinkRow) -> Document | None:
    actor = await remote.fetch_signed(node, link.actor_id)
    outbox_id = id_of(actor.get("outbox"))
    if not outbox_id or not remote.same_origin(outbox_id, link.actor_id):
        return None
    outbox = await remote.fetch_signed(node, outbox_id)
    first = outbox.get("first")
    if isinstance(first, dict):
        return first
    return await remote.fetch_signed(node, first) if isinstance(first, str) else None


async def read_outbox(node: Node, link: LinkRow, since: datetime | None) -> int:
    """Take the Announces in the linked Group's outbox newer than `since`; returns how many
    were new to us."""
    taken = 0
    oldest = since - CATCH_UP_MARGIN if since is not None else None
    try:
        page = await _outbox_first_page(node, link)
        for _ in range(MAX_CATCH_UP_PAGES):
            if page is None:
                break
            items = page.get("orderedItems")
            for item in items if isinstance(items, list) else []:
                if not isinstance(item, dict) or type_of(item) != "Announce":
                    continue
                if id_of(item.get("actor")) != link.actor_id or not remote.same_origin(
                    id_of(item.get("id")) or "", link.actor_id
                ):
                    continue  # an outbox speaks only for its own actor
                if oldest is not None and sharing.published_of(item) < oldest:
                    return taken
                taken += await _take(node, link, item)
            following = id_of(page.get("next"))
            if not following or not remote.same_origin(following, link.actor_id):
                break
            page = await remote.fetch_signed(node, following)
    except remote.RemoteError as exc:
        logger.info("catching up with %s stopped: %s", link.host, exc.reason)
    return taken


async def _take(node: Node, link: LinkRow, item: Document) -> int:
    outcome, reason = await sharing.receive_shared(node, link, item.get("object"))
    if outcome == "duplicate":
        return 0
    await node.store.log(
        "inbound",
        outcome,
        f"caught up from {link.host}'s outbox: {reason}",
        activity_id=id_of(item.get("id")),
        type_="Announce",
        actor_id=link.actor_id,
        host=webfinger.host_of(link.actor_id),
    )
    return 1 if outcome == "accepted" else 0
