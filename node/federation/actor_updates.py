"""Telling followers that one of our actors changed: `Update` with the whole actor document
(a new name, summary or picture), to each follower's shared inbox once, as Mastodon sends it.
Members' profiles (node/accounts/profiles.py) and the community's look (the Group and the
instance actor, node/content/identity.py) both send it."""

from __future__ import annotations

from activitypub import objects
from node.context import Node
from node.storage import LocalActorRow, utcnow

from . import actors, delivery


async def federate_actor(node: Node, row: LocalActorRow) -> int:
    """Queue `Update(actor)` to the actor's followers; returns how many inboxes."""
    actor = actors.local_actor(node.settings, row)
    document = actors.actor_document(node.settings, actor)
    stamp = utcnow().strftime("%Y%m%dT%H%M%S%f")
    activity = objects.update_actor(f"{actor.actor_id}#updates/{stamp}", document)
    inboxes = await node.store.follower_inboxes([row.id])
    return await delivery.enqueue(
        node.store, activity=activity, sender=row.username, inbox_urls=inboxes
    )
