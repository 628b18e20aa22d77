"""Passwords after joining: a member changes their own (the old one first), an admin or the
operator sets one or makes a single-use reset link (24 hours, shown once; only its SHA-256 is
kept, as for invitations). Every change ends the account's sessions; the web view that made
the change signs its own browser in again (node/accounts/sessions.py)."""

from __future__ import annotations

import secrets
from datetime import timedelta

from node.context import Node
from node.notifications import mail
from node.storage import LocalActorRow, utcnow

from . import members, passwords
from .members import AccountError, token_hash

RESET_HOURS = 24
RESET_USED_UP = (
    "This link to choose a new password has been used or has expired: ask an admin for a new one."
)
WRONG_OLD = "That is not your current password: type it again (or ask an admin for a reset link)."
DIFFERENT = "The two new passwords differ: type the same one twice."


def checked_hash(password: str, again: str | None = None) -> str:
    if again is not None and password != again:
        raise AccountError(DIFFERENT)
    try:
        return passwords.hash_password(password)
    except passwords.PasswordError as exc:
        raise AccountError(exc.template, **exc.values) from exc


async def _refreshed(node: Node, row_id: int) -> LocalActorRow:
    row = await node.store.local_actor_by_row_id(row_id)
    assert row is not None
    return row


async def set_password(node: Node, member: LocalActorRow, password_hash: str) -> LocalActorRow:
    """Store the new hash and end every session of the account, together."""
    if member.kind != "Person" or member.deleted_at is not None:
        raise AccountError(f"@{member.username} is not an account that signs in")
    async with node.store.transaction():
        await node.store.update_account(member.id, password_hash=password_hash)
        await node.store.revoke_sessions(member.id)
    return await _refreshed(node, member.id)


async def change_password(
    node: Node, member: LocalActorRow, old: str, new: str, again: str
) -> LocalActorRow:
    new_hash = checked_hash(new, again)
    if member.password_hash is None or not passwords.verify_password(member.password_hash, old):
        raise AccountError(WRONG_OLD)
    return await set_password(node, member, new_hash)


async def reset_link(node: Node, member: LocalActorRow, by: LocalActorRow | None) -> str:
    """A new single-use link for `member`; returns its URL (shown once)."""
    if member.kind != "Person" or member.deleted_at is not None:
        raise AccountError(f"@{member.username} is not an account that signs in")
    token = secrets.token_urlsafe(24)
    expires = utcnow() + timedelta(hours=RESET_HOURS)
    await node.store.insert_password_reset(
        token_hash(token), member.id, by.id if by else None, expires
    )
    return f"{node.settings.url}/reset/{token}"


async def reset_target(node: Node, token: str) -> LocalActorRow | None:
    """Whose password the link resets, while it is usable."""
    row_id = await node.store.usable_password_reset(token_hash(token))
    return await node.store.local_actor_by_row_id(row_id) if row_id is not None else None


async def use_reset_link(node: Node, token: str, new: str, again: str) -> LocalActorRow:
    new_hash = checked_hash(new, again)
    async with node.store.transaction():
        row_id = await node.store.claim_password_reset(token_hash(token))
        if row_id is None:
            raise AccountError(RESET_USED_UP)
        member = await _refreshed(node, row_id)
        if member.suspended_at is not None or member.deleted_at is not None:
            raise AccountError("this account is suspended: ask the node's admins")
        await node.store.update_account(member.id, password_hash=new_hash)
        await node.store.revoke_sessions(member.id)
    return await _refreshed(node, row_id)


async def forgot(node: Node, username: str) -> None:
    """Mail a reset link to the member, if mail is set up and they gave an address; nothing
    tells the asker which of these held (the page answers the same)."""
    if not node.settings.smtp_url or not username:
        return
    member = await node.store.local_actor(username)
    if member is None or member.kind != "Person" or not member.email:
        return
    if member.suspended_at is not None or member.deleted_at is not None:
        return
    link = await reset_link(node, member, None)
    await mail.queue_reset(node, member.email, member.username, link)


async def delete_own(node: Node, member: LocalActorRow, password: str) -> None:
    """A member deletes their account, confirming with their password: their posts and the
    actor are deleted and the deletions federated, as when an admin deletes it."""
    if member.is_admin:
        raise AccountError(members.ADMINS_BY_CLI)
    if member.password_hash is None or not passwords.verify_password(
        member.password_hash, password
    ):
        raise AccountError(WRONG_OLD)
    await members.apply(node, member, "delete")
