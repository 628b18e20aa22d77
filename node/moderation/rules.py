"""Moderation rules: who is blocked, which status a new comment gets, and moderator actions."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from node.notifications import events
from node.settings import Settings
from node.storage import NoteRow, Store


class ModerationError(ValueError):
    """A moderation command that cannot be carried out; the message says why."""


def domain_and_parents(host: str) -> list[str]:
    """`a.b.example` → [a.b.example, b.example, example]: blocking a domain covers subdomains."""
    labels = host.lower().strip(".").split(".")
    return [".".join(labels[i:]) for i in range(len(labels))]


def host_of(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


async def is_blocked(store: Store, actor_id: str | None, *other_urls: str) -> bool:
    """Is the actor, or the server of the actor or of any given URL, blocked?"""
    hosts: list[str] = []
    for url in (actor_id, *other_urls):
        if url:
            hosts.extend(domain_and_parents(host_of(url)))
    return await store.is_blocked(actor_id, hosts)


async def status_for_new_comment(store: Store, settings: Settings, author_id: str) -> str:
    if settings.comment_policy == "open":
        return "approved"
    if settings.comment_policy == "hold_new" and await store.is_approved_author(author_id):
        return "approved"
    return "pending"


@dataclass(frozen=True)
class BlockResult:
    target: str
    kind: str
    rejected_comments: int
    removed_followers: int


def block_target(target: str) -> tuple[str, str]:
    """(normalised target, kind): an actor id (URL) or a domain."""
    text = target.strip()
    if text.startswith(("http://", "https://")):
        if not host_of(text):
            raise ModerationError(f"{target!r} is not an actor URL")
        return text, "actor"
    domain = text.lower().strip(".")
    if not domain or "/" in domain or "@" in domain or " " in domain:
        raise ModerationError(
            f"{target!r} is neither a domain (example.social) nor an actor URL (https://…)"
        )
    return domain, "domain"


async def block(store: Store, target: str, reason: str) -> BlockResult:
    """Block, then reject that source's comments (pending and published) and drop its
    followers."""
    normalised, kind = block_target(target)
    actor_id = normalised if kind == "actor" else None
    host = normalised if kind == "domain" else None
    async with store.transaction():
        await store.add_block(normalised, kind, reason)
        # Pending comments are rejected, and what was already published is taken down.
        rejected = 0
        for old in ("pending", "approved"):
            rejected += await store.set_status_of_notes_from(
                actor_id=actor_id, host=host, old=old, new="rejected"
            )
        removed = await store.remove_followers_matching(actor_id=actor_id, host=host)
    return BlockResult(normalised, kind, rejected, removed)


async def unblock(store: Store, target: str) -> bool:
    normalised, _ = block_target(target)
    return await store.remove_block(normalised)


async def set_comment_status(
    store: Store, note_id: int, status: str, *, trust: bool = True
) -> NoteRow:
    """approve | reject | delete a comment by its number; approving trusts its author unless
    `trust` is False (the web queue's plain "approve")."""
    note = await store.note_by_id(note_id)
    if note is None or note.post_id is None:
        raise ModerationError(f"no comment {note_id}: see `conode comments list --status all`")
    async with store.transaction():
        if status == "deleted":
            await store.update_note(note_id, status="deleted", content_html="")
        else:
            await store.update_note(note_id, status=status)
        if status == "approved" and trust:
            await store.approve_author(note.author_id)
    updated = await store.note_by_id(note_id)
    assert updated is not None
    if note.status != "approved" and updated.status == "approved":
        await events.comment_public(store, updated)  # now public: its post's author is told
    return updated
