"""Who a member's post mentions: each `@name@host` looked up (our own members directly, others
through WebFinger and their actor document, node/federation/remote.py) before the post is
rendered, so the post links them and tags them with `Mention`, and they are sent the post.
An account that cannot be found stays plain text; the post is published all the same."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable

from activitypub import webfinger
from node.context import Node
from node.federation import remote
from node.notifications import events

from .autolink import Links, Mentioned, mentions

logger = logging.getLogger(__name__)

MAX_MENTIONS = 20  # looked up per post; more stay text


async def _lookup(node: Node, handle: str) -> Mentioned | None:
    try:
        acct = webfinger.parse_acct(handle)
    except webfinger.WebFingerError:
        return None
    if acct.host.lower() == node.settings.host.lower():
        row = await node.store.local_actor(acct.user.lower())
        if row is None or row.deleted_at is not None or row.kind == "Application":
            return None
        kind = "groups" if row.kind == "Group" else "users"
        actor_id = f"{node.settings.url}/{kind}/{row.username}"
        return Mentioned(handle, actor_id, f"{node.settings.url}/@{row.username}")
    try:
        actor = await remote.resolve_account(node, handle)
    except remote.RemoteError as exc:
        logger.info("mention %s left as text: %s", handle, exc)
        return None
    return Mentioned(handle, actor.actor_id, actor.profile_url or actor.actor_id)


async def links_for(node: Node, text: str) -> Links:
    """What to link in the text: its hashtags, and every mention that could be resolved."""
    found = {}
    for handle in mentions(text)[:MAX_MENTIONS]:
        who = await _lookup(node, handle)
        if who is not None:
            found[handle.lower()] = who
    return Links(f"{node.settings.url}/tags", found)


def stored(links: Links) -> str:
    """The mentions as kept with the post (posts.mentions), for its tags and its delivery."""
    return json.dumps([{"href": m.actor_id, "name": m.handle} for m in links.mentioned.values()])


async def local_members(node: Node, actor_ids: Iterable[str]) -> list[int]:
    """Our own members among these actor ids (a post's or a comment's mentions), as row ids."""
    prefix = f"{node.settings.url}/users/"
    found: set[int] = set()
    for actor_id in list(actor_ids)[:MAX_MENTIONS]:
        if not actor_id.startswith(prefix):
            continue
        row = await node.store.local_actor(actor_id.removeprefix(prefix))
        alive = row is not None and row.kind == "Person" and row.deleted_at is None
        if row is not None and alive and f"{prefix}{row.username}" == actor_id:
            found.add(row.id)
    return sorted(found)


async def tell_mentioned(
    node: Node, actor_ids: Iterable[str], path: str, by: str, *, author: int | None = None
) -> int:
    """The members mentioned in what `path` shows are told, all but its author (a row id);
    returns how many were mentioned."""
    found = await local_members(node, actor_ids)
    await events.mentioned(node.store, found, path, by, author=author)
    return len(found)
