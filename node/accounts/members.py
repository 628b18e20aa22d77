"""Accounts: invitation links, joining through one, roles (member, moderator, admin),
suspension and deletion. Revoking sessions is a bump of the account's session generation,
which every signed-in request is checked against (node/accounts/sessions.py)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from activitypub import objects
from node.content import publishing
from node.context import Node
from node.federation import actors
from node.federation.actors import LocalActor
from node.storage import LocalActorRow, utcnow
from node.wording import WordedError

from . import passwords

INVITATION_DAYS = 7
MAX_INVITATION_DAYS = 30
ADMINS_BY_CLI = "admins' accounts are managed with `conode user` at the command line"
USED_UP = "This invitation has been used or has expired: ask the node's admins for a new one."
ACTIONS = ("make_moderator", "unmake_moderator", "suspend", "unsuspend", "delete")


class AccountError(WordedError):
    """Something about an account we refuse to do; the message says what to do instead."""


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def invite(node: Node, by: LocalActor, days: int, note: str) -> str:
    """A new single-use invitation; returns its URL (shown once: only the hash is kept)."""
    if not 1 <= days <= MAX_INVITATION_DAYS:
        raise AccountError("an invitation lasts 1 to {most} days", most=MAX_INVITATION_DAYS)
    token = secrets.token_urlsafe(24)
    expires = utcnow() + timedelta(days=days)
    await node.store.insert_invitation(token_hash(token), by.row.id, expires, note.strip())
    return f"{node.settings.url}/invite/{token}"


async def join(
    node: Node, token: str, username: str, display_name: str, password: str
) -> LocalActorRow:
    """Create the member and use up the invitation, together or not at all."""
    digest = token_hash(token)
    if await node.store.usable_invitation(digest) is None:
        raise AccountError(USED_UP)
    try:
        name = actors.check_username(node.settings, username)
        password_hash = passwords.hash_password(password)
    except passwords.PasswordError as exc:
        raise AccountError(exc.template, **exc.values) from exc
    except actors.ActorError as exc:
        raise AccountError(str(exc)) from exc
    async with node.store.transaction():
        try:
            row = await actors.create_actor(
                node.store,
                node.secret,
                username=name,
                kind="Person",
                display_name=" ".join(display_name.split())[:200] or name,
                password_hash=password_hash,
            )
        except actors.ActorError as exc:
            raise AccountError(str(exc)) from exc
        if not await node.store.claim_invitation(digest, row.id):
            raise AccountError("this invitation has just been used: ask for a new one")
    return row


async def change(node: Node, by: LocalActor, target: LocalActorRow, action: str) -> None:
    """An admin's action on another member's account, recorded with who did it."""
    if target.is_admin or target.id == by.row.id:
        raise AccountError(ADMINS_BY_CLI)
    await apply(node, target, action)
    await node.store.record_moderation(by.row.id, action, f"@{target.username}")


async def apply(node: Node, target: LocalActorRow, action: str) -> None:
    """Do `action` to an account, whoever asked (`conode user` calls this directly)."""
    if action not in ACTIONS:
        raise AccountError(f"unknown action {action!r}")
    if target.kind != "Person":
        raise AccountError(f"@{target.username} is not a member's account")
    if target.deleted_at is not None:
        raise AccountError(f"@{target.username} was deleted")
    store = node.store
    if action == "delete":
        await _delete(node, actors.local_actor(node.settings, target))
    elif action == "suspend":
        await store.update_account(target.id, suspended_at=utcnow())
        await store.revoke_sessions(target.id)
    elif action == "unsuspend":
        await store.update_account(target.id, suspended_at=None)
    else:
        await store.update_account(target.id, is_moderator=action == "make_moderator")


async def _delete(node: Node, member: LocalActor) -> None:
    """Their posts are deleted (each Delete federates), then the actor itself; the row stays,
    without a password, so the actor's id keeps answering with a Tombstone."""
    for post in await node.store.posts_by(member.row.id, limit=10_000):
        await publishing.delete_post(node, post)
    activity = objects.delete(
        f"{member.actor_id}#delete",
        member.actor_id,
        member.actor_id,
        objects.public_addressing(f"{member.actor_id}/followers"),
    )
    async with node.store.transaction():
        now = utcnow()
        await node.store.update_account(
            member.row.id, deleted_at=now, suspended_at=now, password_hash=None, is_moderator=False
        )
        await node.store.revoke_sessions(member.row.id)
        await publishing.federate(node, member, activity, announce=False)
