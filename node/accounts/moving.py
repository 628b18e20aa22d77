"""Moving, as Mastodon does it: a member's account moves to an account elsewhere, and the
receiving side's `alsoKnownAs` (`conode user alias`) says it expects them.

A move is refused unless the target's own document, fetched fresh, lists the member in
`alsoKnownAs` (so nobody can move followers to an account that did not ask for them). Then the
member's actor says `movedTo`, a `Move` (actor = object = the member, target = the new account)
goes to every follower's server once, the member stops publishing here, and, when the new
account is on a linked node, the member's hours follow (node/network/moving_hours.py).
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass

from activitypub import objects
from activitypub.vocab import as_list, id_of
from node.context import Node
from node.federation import delivery, remote
from node.federation.actors import aliases_of, local_actor
from node.network import moving_hours
from node.storage import LocalActorRow, RemoteActorRow

from . import passwords, profiles
from .credentials import WRONG_OLD
from .members import AccountError

MAX_ALIASES = 10


@dataclass(frozen=True)
class Moved:
    target: RemoteActorRow
    move_id: str
    minutes: int | None  # the hours offered to the new node, in minutes, when it is linked


async def _fresh_target(node: Node, account: str) -> tuple[RemoteActorRow, list[str]]:
    """The account, its document read from its server now (not from the cache), and the ids in
    its `alsoKnownAs`."""
    try:
        found = await remote.resolve_account(node, account.strip())
        document = await remote.fetch_signed(node, found.actor_id)
        row = remote.actor_row(document, found.actor_id)
    except remote.RemoteError as exc:
        raise AccountError(f"cannot find {account}: {exc.reason}; check the address") from exc
    await node.store.upsert_remote_actor(row)
    aliases = [alias for alias in map(id_of, as_list(document.get("alsoKnownAs"))) if alias]
    return row, aliases


async def add_alias(node: Node, member: LocalActorRow, account: str) -> str:
    """The receiving side: `member` says it is also `account` (an account moving here); the
    actor's followers get the Update. Returns the alias's actor id."""
    try:
        target = await remote.resolve_account(node, account.strip())
    except remote.RemoteError as exc:
        raise AccountError(f"cannot find {account}: {exc.reason}; check the address") from exc
    aliases = aliases_of(member)
    if target.actor_id not in aliases:
        if len(aliases) >= MAX_ALIASES:
            raise AccountError(
                "@{name} has {most} aliases already", name=member.username, most=MAX_ALIASES
            )
        await node.store.set_also_known_as(member.id, json.dumps([*aliases, target.actor_id]))
        row = await node.store.local_actor_by_row_id(member.id)
        assert row is not None
        await profiles.federate_profile(node, row)
    return target.actor_id


async def move(node: Node, member: LocalActorRow, account: str) -> Moved:
    """Move `member` to `account`, which must list the member in its `alsoKnownAs`."""
    if member.kind != "Person" or member.deleted_at is not None:
        raise AccountError(f"@{member.username} is not a member who can move")
    if member.moved_to is not None:
        raise AccountError(
            "@{name} has moved to {target} already", name=member.username, target=member.moved_to
        )
    actor = local_actor(node.settings, member)
    target, aliases = await _fresh_target(node, account)
    if target.actor_id == actor.actor_id:
        raise AccountError("an account cannot move to itself: give the new account's address")
    if actor.actor_id not in aliases:
        unlisted = (
            f"{target.handle} does not list {actor.actor_id} in its alsoKnownAs: add this "
            f"account as an alias there first (on conode: `conode user alias "
            f"{target.username or 'NAME'} @{member.username}@{node.settings.host}`), then "
            "move again"
        )
        raise AccountError(unlisted)
    move_id = f"{actor.actor_id}/moves/{secrets.token_urlsafe(9)}"
    activity = objects.move(move_id, actor.actor_id, target.actor_id)
    async with node.store.transaction():
        if not await node.store.set_moved(member.id, target.actor_id):
            raise AccountError("@{name} has moved already", name=member.username)
        inboxes = await node.store.follower_inboxes([member.id])
        await delivery.enqueue(
            node.store, activity=activity, sender=member.username, inbox_urls=inboxes
        )
        minutes = await moving_hours.offer_hours(node, actor, target, activity)
    return Moved(target, move_id, minutes)


async def move_own(node: Node, member: LocalActorRow, account: str, password: str) -> Moved:
    """A member moves their own account from the settings page, confirming with their
    password."""
    if member.password_hash is None or not passwords.verify_password(
        member.password_hash, password
    ):
        raise AccountError(WRONG_OLD)
    if not account.strip():
        raise AccountError("Give the address of your new account, like @you@other.server.")
    return await move(node, member, account)
