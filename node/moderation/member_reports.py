"""Members' own reports: a member flags a comment they read on a post's page. It becomes a
report like one another server sends (a row in `reports`, read at /moderation/reports, the
moderators told), naming the comment's author and the comment, so a moderator can forward it
to the comment's own server (node/federation/report_forwarding.py), as Mastodon does."""

from __future__ import annotations

import uuid

from node.notifications import events
from node.storage import NoteRow, Store

MAX_REASON_CHARS = 1000


class ReportError(ValueError):
    """A report that cannot be taken; the message says why, in the reporter's words."""


class NoSuchComment(ReportError):
    """The comment is not one shown on a post here (never was, or no longer)."""


async def report_comment(
    store: Store, reporter_id: str, note_id: int, reason: str
) -> tuple[int, NoteRow]:
    """The new report's number and the comment. Only a comment shown on a post can be
    reported, and only with a reason. Raises ReportError."""
    note = await store.note_by_id(note_id)
    if note is None or note.post_id is None or note.status != "approved" or not note.public:
        raise NoSuchComment("No such comment.")
    reason = reason.strip()[:MAX_REASON_CHARS]
    if not reason:
        raise ReportError("Say what is wrong with this comment.")
    # A report made here has no activity of its own; a URN keeps `activity_id` unique.
    report_id = await store.add_report(
        f"urn:uuid:{uuid.uuid4()}", reporter_id, reason, [note.author_id, note.object_id]
    )
    assert report_id is not None  # a fresh URN was never stored before
    await events.report(store, report_id, reporter_id)
    return report_id, note
