"""What our members do towards other servers: follow and unfollow accounts.

Replies are in node/content/replies.py."""

from __future__ import annotations

import secrets

from activitypub import objects
from node.context import Node
from node.storage import RemoteActorRow

from . import delivery, remote
from .actors import LocalActor, moved_notice


class FollowingError(ValueError):
    """A follow or reply that cannot be made; the message says why and what to do."""


async def follow(node: Node, member: LocalActor, account: str) -> RemoteActorRow:
    if moved_notice(member.row):
        raise FollowingError(str(moved_notice(member.row)))
    try:
        target = await remote.resolve_account(node, account)
    except remote.RemoteError as exc:
        raise FollowingError(f"cannot find {account}: {exc.reason}") from exc
    follow_id = f"{member.actor_id}/follows/{secrets.token_urlsafe(9)}"
    activity = objects.follow(follow_id, member.actor_id, target.actor_id)
    async with node.store.transaction():
        await node.store.add_following(member.row.id, target.actor_id, follow_id)
        await delivery.enqueue(
            node.store, activity=activity, sender=member.username, inbox_urls=[target.inbox_url]
        )
    return target


async def unfollow(node: Node, member: LocalActor, account: str) -> RemoteActorRow:
    try:
        target = await remote.resolve_account(node, account)
    except remote.RemoteError as exc:
        raise FollowingError(f"cannot find {account}: {exc.reason}") from exc
    row = await node.store.following_row(member.row.id, target.actor_id)
    if row is None:
        raise FollowingError(f"{member.handle} does not follow {account}")
    original = objects.follow(row["follow_id"], member.actor_id, target.actor_id)
    activity = objects.undo(f"{row['follow_id']}/undo", member.actor_id, original)
    async with node.store.transaction():
        await node.store.remove_following(member.row.id, target.actor_id)
        await delivery.enqueue(
            node.store, activity=activity, sender=member.username, inbox_urls=[target.inbox_url]
        )
    return target
