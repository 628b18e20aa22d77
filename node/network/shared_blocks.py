"""Shared moderation: the block decisions of a linked node whose decisions we trust.

Each node serves its blocks, of servers and of accounts, at `/network/blocks.json`, only to
signed requests from a node it is linked with (a block list names servers and people and says
why; it is not for everyone). A Flag a node acts on ends in such a block, so that is what is
shared; the reports themselves (who reported whom) stay with the node that received them. For
a link marked `conode links trust ID --moderation`, the link check reads that list; a block we
do not have yet becomes a suggestion (`conode links suggestions`) that an admin confirms with
`conode block add`, or is applied at once when CONODE_LINK_BLOCKS=apply.
"""

from __future__ import annotations

import logging
from typing import Any

from activitypub import webfinger
from node.context import Node
from node.federation import remote
from node.moderation import rules as moderation
from node.storage import LinkRow

from .links import node_url

logger = logging.getLogger(__name__)

BLOCKS_PATH = "/network/blocks.json"
MAX_BLOCKS = 1000  # read from one node per check
MAX_REASON = 500


async def blocks_document(node: Node) -> dict[str, Any]:
    """What we serve to linked nodes: our server and account blocks, with their reasons."""
    items = [
        {
            "domain" if item["kind"] == "domain" else "actor": item["target"],
            "reason": item["reason"],
        }
        for item in await node.store.blocks()
    ]
    return {"id": node.settings.url + BLOCKS_PATH, "type": "Blocks", "items": items}


async def may_read_blocks(node: Node, signer: str) -> bool:
    """Only a node we are linked with (its Group, or its instance actor) may read them."""
    return webfinger.host_of(signer) in await node.store.linked_hosts()


def _targets(document: dict[str, Any]) -> list[tuple[str, str]]:
    items = document.get("items")
    found = []
    for item in (items if isinstance(items, list) else [])[:MAX_BLOCKS]:
        if not isinstance(item, dict):
            continue
        for field, wanted in (("domain", "domain"), ("actor", "actor")):
            value = item.get(field)
            if not isinstance(value, str):
                continue
            try:
                target, kind = moderation.block_target(value)
            except moderation.ModerationError:
                continue
            if kind == wanted:  # a domain named as an actor, or the reverse, is ignored
                found.append((target, str(item.get("reason") or "")[:MAX_REASON]))
    return found


async def _already_blocked(node: Node, target: str) -> bool:
    kind = moderation.block_target(target)[1]
    if kind == "actor":
        return await moderation.is_blocked(node.store, target)
    return await moderation.is_blocked(node.store, None, f"https://{target}/")


def _not_ours_to_apply(node: Node, link: LinkRow, target: str) -> bool:
    """A list that blocks us, our members, or the linked node itself is not for us to apply."""
    own_host = webfinger.host_of(node.settings.url)
    if moderation.block_target(target)[1] == "actor":
        return webfinger.host_of(target) == own_host
    return target in (own_host, link.host)


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
        if _not_ours_to_apply(node, link, target) or await _already_blocked(node, target):
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
    """Suggested blocks not yet blocked here: target, reason, source_actor_id."""
    items = []
    for item in await node.store.block_suggestions("suggested"):
        if not await _already_blocked(node, item["target"]):
            items.append({k: item[k] for k in ("target", "reason", "source_actor_id")})
    return items
