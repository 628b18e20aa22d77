"""What a moderator does to a comment from the queue, each action recorded with who did it.

`approve` publishes one comment; `approve_trust` also lets that author's later comments publish
at once; `reject` hides it; `delete` removes its text for good; `block_author` and
`block_server` block the source (node/moderation/rules.py rejects their pending comments and drops
their follows). `pending` puts a decided comment back in the queue (the undo of approve and
reject), `pending_untrust` also withdraws the trust. Every action lands in `moderation_actions`.
"""

from __future__ import annotations

from dataclasses import dataclass

from node.storage import NoteRow, Store

from . import rules as moderation

ACTIONS = (
    "approve",
    "approve_trust",
    "reject",
    "delete",
    "block_author",
    "block_server",
    "pending",
    "pending_untrust",
)
NEEDS_CONFIRMATION = frozenset({"delete", "block_author", "block_server"})
UNDO = {"approve": "pending", "reject": "pending", "approve_trust": "pending_untrust"}


@dataclass(frozen=True)
class Done:
    action: str
    note: NoteRow
    message: str


async def _comment(store: Store, note_id: int) -> NoteRow:
    note = await store.note_by_id(note_id)
    if note is None or note.post_id is None or note.local_author_id is not None:
        raise moderation.ModerationError(f"no comment {note_id} from another server")
    return note


async def _set_status(store: Store, note: NoteRow, action: str) -> str:
    if action in ("approve", "approve_trust"):
        await moderation.set_comment_status(
            store, note.id or 0, "approved", trust=action == "approve_trust"
        )
        if action == "approve_trust":
            return f"Approved; later comments from {note.author_id} publish at once."
        return "Approved: the comment is published."
    if action == "reject":
        await moderation.set_comment_status(store, note.id or 0, "rejected")
        return "Rejected: the comment stays hidden."
    if action == "delete":
        await moderation.set_comment_status(store, note.id or 0, "deleted")
        return "Deleted."
    if action == "pending_untrust":
        await store.untrust_author(note.author_id)
    await store.update_note(note.id or 0, status="pending")
    return "Back in the queue."


async def apply(store: Store, moderator_id: int, note_id: int, action: str) -> Done:
    """Carry out one queue action on a remote comment; raises ModerationError."""
    if action not in ACTIONS:
        raise moderation.ModerationError(f"unknown action {action!r}")
    note = await _comment(store, note_id)
    if note.status in ("deleted", "private") and action != "block_author":
        raise moderation.ModerationError(f"comment {note_id} is {note.status}; it cannot be shown")
    if action == "block_author":
        result = await moderation.block(store, note.author_id, f"comment {note_id}")
        message = f"Blocked {result.target}; {result.rejected_comments} pending comments rejected."
    elif action == "block_server":
        result = await moderation.block(store, note.host, f"comment {note_id}")
        message = f"Blocked {result.target}; {result.rejected_comments} pending comments rejected."
    else:
        message = await _set_status(store, note, action)
    await store.record_moderation(moderator_id, action, f"comment {note_id}", note.author_id)
    updated = await store.note_by_id(note_id)
    assert updated is not None
    return Done(action, updated, message)
