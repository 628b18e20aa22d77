"""Moderation rules: who is blocked, which status a new comment gets, and moderator actions."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from node.notifications import events
from node.settings import Settings
from node.storage import NoteRow, Store


class ModerationError(ValueError):
    """A moderation command that cannot be carried out; the message says why."""


# A DNS name in ASCII (IDNA-encoded): labels of letters, digits and inner hyphens.
_LABEL = r"(?!-)[a-z0-9-]{1,63}(?<!-)"
DOMAIN_PATTERN = re.compile(rf"^{_LABEL}(?:\.{_LABEL})*$")
NEVER_MATCHES = (
    "{target!r} could never match: it is neither a domain (example.social), a server on "
    "another port (example.social:8443) nor an actor id (https://example.social/users/name)"
)


def domain_and_parents(host: str) -> list[str]:
    """`a.b.example` → [a.b.example, b.example, example]: blocking a domain covers subdomains."""
    labels = host.lower().strip(".").split(".")
    return [".".join(labels[i:]) for i in range(len(labels))]


def host_of(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def server_names(url: str) -> list[str]:
    """What a block may name to cover the server of `url`: `host:port` when the URL names a
    port, then the host and its parent domains."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if not host:
        return []
    try:
        port = parts.port
    except ValueError:
        port = None
    return ([f"{host}:{port}"] if port is not None else []) + domain_and_parents(host)


def _names(actor_id: str | None, other_urls: tuple[str, ...]) -> list[str]:
    return [name for url in (actor_id, *other_urls) if url for name in _origin_names(url)]


def _origin_names(url: str) -> tuple[str, ...]:
    """server_names of the URL's scheme and authority, kept: every activity has a new id, but
    on few servers (the inbox asks this for each one)."""
    scheme, _, rest = url.partition("//")
    authority = rest.split("/", 1)[0]  # urlsplit reads what is left the same way
    return _server_names_of_origin(f"{scheme}//{authority}")


@functools.lru_cache(maxsize=4096)
def _server_names_of_origin(origin: str) -> tuple[str, ...]:
    return tuple(server_names(origin))


async def is_blocked(store: Store, actor_id: str | None, *other_urls: str) -> bool:
    """Is the actor, or the server of the actor or of any given URL, blocked? Answered from
    this process's block list, which may be a second old: the inbox's fast first filter."""
    return await store.is_blocked(actor_id, _names(actor_id, other_urls))


async def is_blocked_now(store: Store, actor_id: str | None, *other_urls: str) -> bool:
    """The same question asked of the database: what a handler checks when it acts, so a
    block holds from the moment `conode block add` returns, in every process."""
    return await store.is_blocked_now(actor_id, _names(actor_id, other_urls))


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
    """(normalised target, kind): an actor id (URL), a domain or a domain:port; a target
    that no actor id or server name could ever equal is refused (ModerationError)."""
    text = target.strip()
    if text.startswith(("http://", "https://")):
        parts = urlsplit(text)
        if not server_names(text) or parts.path in ("", "/"):
            raise ModerationError(NEVER_MATCHES.format(target=target))
        return text, "actor"
    host, colon, port = text.lower().partition(":")
    try:
        host = host.strip(".").encode("idna").decode("ascii")  # bücher.example: xn--…
    except UnicodeError:
        host = ""
    if not DOMAIN_PATTERN.match(host) or (colon and not _is_port(port)):
        raise ModerationError(NEVER_MATCHES.format(target=target))
    return f"{host}:{int(port)}" if colon else host, "domain"


def _is_port(text: str) -> bool:
    return text.isascii() and text.isdigit() and 0 < int(text) < 65536


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
