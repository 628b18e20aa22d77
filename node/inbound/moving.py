"""Moves as they arrive: a `Move` from an account our members follow (Mastodon's check: the
sender moves itself, and the target's `alsoKnownAs`, read fresh, names the sender), and the
hours exchange of a member moving between two linked nodes (node/network/moving_hours.py).

Handlers return (outcome, reason) for node/inbound/activities.py to log.
"""

from __future__ import annotations

from activitypub.vocab import Document, as_list, id_of
from node.context import Node
from node.federation import following, remote
from node.federation.actors import aliases_of, local_actor_by_row_id, local_person
from node.federation.following import FollowingError
from node.network import moving_hours

Result = tuple[str, str]

on_offer = moving_hours.on_offer  # the new node's side of a member's hours
on_accept = moving_hours.on_accept  # the old node's side


async def _aliases_of_target(node: Node, target_id: str) -> list[str]:
    """The target's `alsoKnownAs`: ours from the database, anyone else's fetched now (a cached
    document may predate the alias, or outlive its removal). Raises RemoteError."""
    member = await local_person(node.store, node.settings, target_id)
    if member is not None:
        return aliases_of(member.row)
    document = await remote.fetch_signed(node, target_id)
    await node.store.upsert_remote_actor(remote.actor_row(document, target_id))
    return [alias for alias in map(id_of, as_list(document.get("alsoKnownAs"))) if alias]


async def _follow_the_move(node: Node, row_id: int, old_id: str, new_id: str) -> bool:
    """One member follows the new account (unless it is on this node, whose posts are here
    already) and stops following the old one. False when the member cannot (moved, deleted)."""
    member = await local_actor_by_row_id(node.store, node.settings, row_id)
    if member is None or member.row.deleted_at is not None or member.row.moved_to:
        return False
    try:
        if await local_person(node.store, node.settings, new_id) is None:
            await following.follow(node, member, new_id)
        await following.unfollow(node, member, old_id)
    except FollowingError:
        return False
    return True


async def on_move(node: Node, activity: Document, actor_id: str) -> Result:
    """`Move{actor: old, object: old, target: new}`: members who followed old follow new."""
    old_id, new_id = id_of(activity.get("object")), id_of(activity.get("target"))
    if old_id != actor_id:
        return "dropped", "move of an account other than the sender"
    if not new_id or new_id == old_id or not new_id.startswith(("https://", "http://")):
        return "dropped", "move without a target account"
    followers = await node.store.members_following(old_id)
    if not followers:
        return "dropped", "move of an account nobody here follows"
    try:
        aliases = await _aliases_of_target(node, new_id)
    except remote.RemoteError as exc:
        return "dropped", f"move refused: the target cannot be read ({exc.reason})"
    if old_id not in aliases:
        return "dropped", f"move refused: {new_id} does not list {old_id} in alsoKnownAs"
    moved = [row_id for row_id in followers if await _follow_the_move(node, row_id, old_id, new_id)]
    followed = f"members here who followed the old account follow the move: {len(moved)}"
    return "accepted", f"moved to {new_id}; {followed}"
