"""Members' profiles: display name, bio (Markdown, kept as written and as sanitised HTML in the
actor's `summary`), picture (checked, cropped square at two sizes, served from our origin) and
an email address only the node sees. Every change that shows in the actor document is sent as
`Update(Person)` to the member's followers, one delivery per shared inbox."""

from __future__ import annotations

import re
from dataclasses import dataclass

from node.content import html, uploads
from node.context import Node
from node.federation import actor_updates, actors
from node.storage import LocalActorRow

from .members import AccountError

MAX_BIO = 2000
MAX_DISPLAY_NAME = 200
# Deliberately plain: one @, no spaces or control characters (an address later goes into a
# mail header, where a newline would inject headers).
EMAIL_PATTERN = re.compile(r"^[^@\s\x00-\x1f\x7f]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63}$")
ROLES = ("member", "moderator", "admin")


@dataclass(frozen=True)
class ProfileChange:
    """What to change; None leaves a field as it is."""

    display_name: str | None = None
    bio: str | None = None
    avatar: bytes | None = None
    remove_avatar: bool = False
    email: str | None = None  # "" removes the address


def checked_email(address: str) -> str | None:
    address = address.strip()
    if not address:
        return None
    if len(address) > 320 or not EMAIL_PATTERN.match(address):
        raise AccountError(
            "{address!r} is not an email address we can send to", address=address[:80]
        )
    return address


def _profile_values(change: ProfileChange) -> dict[str, object]:
    values: dict[str, object] = {}
    if change.display_name is not None:
        name = " ".join(change.display_name.split())
        if not name or len(name) > MAX_DISPLAY_NAME:
            raise AccountError("a display name has 1 to {most} characters", most=MAX_DISPLAY_NAME)
        values["display_name"] = name
    if change.bio is not None:
        if len(change.bio) > MAX_BIO:
            raise AccountError("keep the bio under {most} characters", most=MAX_BIO)
        bio = change.bio.strip()
        values["bio"] = bio
        values["summary"] = html.sanitize_comment(html.render_markdown(bio)).strip() if bio else ""
    if change.email is not None:
        values["email"] = checked_email(change.email)
    return values


async def _store_avatar(node: Node, member: LocalActorRow, data: bytes) -> str:
    try:
        alt = f"Picture of {member.display_name}"
        boxes = uploads.squares(actors.AVATAR_SIZES)
        return await uploads.store_fitted(node.store, member.id, data, alt, boxes)
    except uploads.UploadError as exc:
        raise AccountError(str(exc)) from exc


async def edit_profile(node: Node, member: LocalActorRow, change: ProfileChange) -> LocalActorRow:
    """Check everything first, then store and federate; a refused change stores nothing."""
    if member.kind != "Person" or member.deleted_at is not None:
        raise AccountError(f"@{member.username} has no profile to edit")
    values = _profile_values(change)
    shown_before = _shown(member)
    async with node.store.transaction():
        if change.avatar is not None:
            values["avatar_id"] = await _store_avatar(node, member, change.avatar)
        elif change.remove_avatar:
            values["avatar_id"] = None
        if values:
            await node.store.update_account(member.id, **values)
        if member.avatar_id and values.get("avatar_id", member.avatar_id) != member.avatar_id:
            await node.store.delete_unattached_media(
                uploads.fitted_ids(member.avatar_id, uploads.squares(actors.AVATAR_SIZES))
            )
        row = await node.store.local_actor_by_row_id(member.id)
        assert row is not None
        if _shown(row) != shown_before:
            await federate_profile(node, row)
    return row


def _shown(row: LocalActorRow) -> tuple[str, str, str | None]:
    return (row.display_name, row.summary, row.avatar_id)


async def federate_profile(node: Node, row: LocalActorRow) -> None:
    """`Update(Person)` with the whole actor document, to each follower's shared inbox once."""
    await actor_updates.federate_actor(node, row)


async def set_role(node: Node, member: LocalActorRow, role: str) -> LocalActorRow:
    """The operator's choice of role (the web only moves members to and from moderator)."""
    if role not in ROLES:
        raise AccountError(f"a role is one of {', '.join(ROLES)}")
    await node.store.update_account(
        member.id, is_admin=role == "admin", is_moderator=role == "moderator"
    )
    row = await node.store.local_actor_by_row_id(member.id)
    assert row is not None
    return row
