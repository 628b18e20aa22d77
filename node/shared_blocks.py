"""Shared moderation: the domain blocks of a linked node whose decisions we trust.

Each node serves its domain blocks at `/network/blocks.json`, only to signed requests from a
node it is linked with (a block list names servers and says why; it is not for everyone). For
a link marked `conode links trust ID --moderation`, the link check reads that list; a block we
do not have yet becomes a suggestion (`conode links suggestions`) that an admin confirms with
`conode block add`, or is applied at once when CONODE_LINK_BLOCKS=apply.
"""

from __future__ import annotations

import logging
from typing import Any

from activitypub import webfinger

from . import moderation, remote
from .context import Node
from .links import node_url
from .storage import LinkRow

logger = logging.getLogger(__name__)

BLOCKS_PATH = "/network/blocks.json"
MAX_BLOCKS = 1000  # read from one node per check
MAX_REASON = 500


async def blocks_document(node: Node) -> dict[str, Any]:
    """What we serve to linked nodes: our domain blocks, with their reasons."""
    items = [
        {"domain": item["target"], "reason": item["reason"]}
        for item in await node.store.blocks()
        if item["kind"] == "domain"
    ]
    return {"id": node.settings.url + BLOCKS_PATH, "type": "DomainBlocks", "items": items}


async def may_read_blocks(node: Node, signer: str) -> bool:
    """Only a node we are linked with (its Group, or its instance actor) may read them."""
    return webfinger.host_of(signer) in await node.store.linked_hosts()


def _targets(document: dict[str, Any]) -> list[tuple[str, str]]:
    items = document.get("items")
    found = []
    for item in (items if isinstance(items, list) else [])[:MAX_BLOCKS]:
        domain = item.get("domain") if isinstance(item, dict) else None
        if not isinstance(domain, str):
            continue
        try:
            target, kind = moderation.block_target(domain)
        except moderation.ModerationError:
            continue
        if kind == "domain":
            found.append((target, str(item.get("reason") or "")[:MAX_REASON]))
    return found


async def take_blocks(node: Node, link: LinkRow) -> int:
    """Read a trusted linked node's blocks; returns how many were new here."""
    url = node_url(link.actor_id) + BLOCKS_PATH
    try:
        document = await remote.fetch_signed(node, url)
    except remote.RemoteError as exc:
        logger.info("blocks of %s not read: %s", link.host, exc.reason)
        return 0
    new = 0
    for target, reason in _targets(document):
        if target == webfinger.host_of(node.settings.url) or target == link.host:
            continue  # a list that blocks us, or its own node, is not for us to apply
        if await moderation.is_blocked(node.store, None, f"https://{target}/"):
            continue
        why = f"blocked by linked node {link.host}" + (f": {reason}" if reason else "")
        if node.settings.link_blocks == "apply":
            await moderation.block(node.store, target, why)
            status = "applied"
        else:
            status = "suggested"
        if await node.store.suggest_block(link.actor_id, target, why):
            new += 1
        await node.store.set_suggestion_status(link.actor_id, target, status)
    return new


async def open_suggestions(node: Node) -> list[dict[str, Any]]:
    """Suggested domain blocks not yet blocked here: target, reason, source_actor_id."""
    items = []
    for item in await node.store.block_suggestions("suggested"):
        if not await moderation.is_blocked(node.store, None, f"https://{item['target']}/"):
            items.append({k: item[k] for k in ("target", "reason", "source_actor_id")})
    return items
