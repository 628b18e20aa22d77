"""Members' profiles: display name, bio (Markdown, kept as written and as sanitised HTML in the
actor's `summary`), picture (checked, cropped square at two sizes, served from our origin) and
an email address only the node sees. Every change that shows in the actor document is sent as
`Update(Person)` to the member's followers, one delivery per shared inbox."""

from __future__ import annotations

import asyncio
import re
import secrets
from dataclasses import dataclass

from activitypub import objects
from node.content import html, uploads
from node.context import Node
from node.federation import actors, delivery
from node.storage import LocalActorRow, utcnow

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
        raise AccountError(f"{address[:80]!r} is not an email address we can send to")
    return address


def _profile_values(change: ProfileChange) -> dict[str, object]:
    values: dict[str, object] = {}
    if change.display_name is not None:
        name = " ".join(change.display_name.split())
        if not name or len(name) > MAX_DISPLAY_NAME:
            raise AccountError(f"a display name has 1 to {MAX_DISPLAY_NAME} characters")
        values["display_name"] = name
    if change.bio is not None:
        if len(change.bio) > MAX_BIO:
            raise AccountError(f"keep the bio under {MAX_BIO} characters")
        bio = change.bio.strip()
        values["bio"] = bio
        values["summary"] = html.sanitize_comment(html.render_markdown(bio)).strip() if bio else ""
    if change.email is not None:
        values["email"] = checked_email(change.email)
    return values


async def _store_avatar(node: Node, member: LocalActorRow, data: bytes) -> str:
    try:
        sizes = (actors.AVATAR_LARGE, actors.AVATAR_SMALL)
        images = await asyncio.to_thread(uploads.square_images, data, sizes)
    except uploads.UploadError as exc:
        raise AccountError(str(exc)) from exc
    avatar_id = secrets.token_urlsafe(12)
    for size, image in images.items():
        await node.store.insert_media(
            public_id=f"{avatar_id}-{size}",
            owner_id=member.id,
            post_id=None,
            media_type=image.media_type,
            alt=f"Picture of {member.display_name}"[:200],
            width=size,
            height=size,
            data=image.data,
        )
    return avatar_id


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
            sizes = (actors.AVATAR_LARGE, actors.AVATAR_SMALL)
            await node.store.delete_unattached_media([f"{member.avatar_id}-{n}" for n in sizes])
        row = await node.store.local_actor_by_row_id(member.id)
        assert row is not None
        if _shown(row) != shown_before:
            await federate_profile(node, row)
    return row


def _shown(row: LocalActorRow) -> tuple[str, str, str | None]:
    return (row.display_name, row.summary, row.avatar_id)


async def federate_profile(node: Node, row: LocalActorRow) -> None:
    """`Update(Person)` with the whole actor document, to each follower's shared inbox once."""
    actor = actors.local_actor(node.settings, row)
    document = actors.actor_document(node.settings, actor)
    stamp = utcnow().strftime("%Y%m%dT%H%M%S%f")
    activity = objects.update_actor(f"{actor.actor_id}#updates/{stamp}", document)
    inboxes = await node.store.follower_inboxes([row.id])
    await delivery.enqueue(node.store, activity=activity, sender=row.username, inbox_urls=inboxes)


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
