"""The moderators' comment queue: pending comments first, each action one click (approve,
reject, approve and trust come with an undo; delete and blocks ask to confirm first)."""

from __future__ import annotations

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from node.content import threads
from node.federation.actors import LocalActor
from node.moderation import comment_queue
from node.moderation.rules import ModerationError
from node.storage import NoteRow, PostRow

from . import group_post_views, i18n, paging
from .guards import for_moderators, for_moderators_form, text_field
from .i18n import N_
from .responses import error_page, node_of, render

STATUSES = ("pending", "approved", "rejected", "deleted")
BUTTONS = (  # action, label, style
    ("approve", N_("Approve"), ""),
    ("approve_trust", N_("Approve and trust author"), ""),
    ("reject", N_("Reject"), "secondary"),
    ("delete", N_("Delete"), "danger"),
    ("block_author", N_("Block author"), "danger"),
    ("block_server", N_("Block server"), "danger"),
)
NOTICES = {
    "approve": N_("Comment {id} approved: it is published."),
    "approve_trust": N_("Comment {id} approved; its author's later comments publish at once."),
    "reject": N_("Comment {id} rejected: it stays hidden."),
    "delete": N_("Comment {id} deleted."),
    "block_author": N_(
        "The author of comment {id} is blocked; their pending comments are rejected."
    ),
    "block_server": N_("The server of comment {id} is blocked; its pending comments are rejected."),
    "pending": N_("Comment {id} is back in the queue."),
    "pending_untrust": N_("Comment {id} is back in the queue and its author is no longer trusted."),
}


async def _queue_items(
    request: Request, notes: list[NoteRow]
) -> list[tuple[threads.CommentView, PostRow]]:
    node = node_of(request)
    notes = [n for n in notes if n.local_author_id is None]
    posts: dict[int, PostRow | None] = {}
    for note in notes:
        post_id = note.post_id or 0
        if post_id not in posts:
            posts[post_id] = await node.store.post_by_id(post_id)
    views = await threads.comment_views(node, notes)  # the authors in one query
    return [(view, post) for view in views if (post := posts[view.note.post_id or 0]) is not None]


@for_moderators
async def queue(request: Request, member: LocalActor) -> Response:
    status = request.query_params.get("status", "pending")
    status = status if status in STATUSES else "pending"
    done = request.query_params.get("done", "")
    number = request.query_params.get("comment", "")
    known = done in NOTICES and number.isdigit()
    notice = i18n.translate(request, NOTICES[done]).format(id=number) if known else ""
    post_number = request.query_params.get("post", "")
    if done in group_post_views.NOTICES and post_number.isdigit():
        notice = i18n.translate(request, group_post_views.NOTICES[done]).format(id=post_number)
    node = node_of(request)
    page = await node.store.comments_page(paging.window(request), status=status)
    first_page = not {"after", "before"} & set(request.query_params)  # shown above comments
    group_rows = await node.store.group_posts(status, limit=100) if first_page else []
    return render(
        request,
        "queue.html",
        status=status,
        statuses=STATUSES,
        actions=_buttons(status),
        items=await _queue_items(request, page.items),
        pager=paging.links(request, page),
        group_posts=await group_post_views.views(node, group_rows),
        group_actions=group_post_views.buttons(status),
        notice=notice,
        undo=comment_queue.UNDO.get(done) if notice else None,
        undo_comment=number,
        section="queue",
    )


def _buttons(status: str) -> list[tuple[str, str, str]]:
    """The actions that change something for comments with this status."""
    if status == "deleted":
        return [b for b in BUTTONS if b[0].startswith("block")]
    already = {"approved": "approve", "rejected": "reject"}.get(status)
    return [b for b in BUTTONS if b[0] != already]


def _confirm(request: Request, note: NoteRow, action: str, status: str) -> Response:
    return render(request, "confirm.html", note=note, action=action, status=status, host=note.host)


@for_moderators_form
async def act(request: Request, member: LocalActor, form: FormData) -> Response:
    note_id = int(request.path_params["note_id"])
    action = text_field(form, "action", 32)
    status = text_field(form, "status", 16)
    status = status if status in STATUSES else "pending"
    store = node_of(request).store
    note = await store.note_by_id(note_id)
    if note is None:
        return error_page(request, 404, "No such comment.")
    if action in comment_queue.NEEDS_CONFIRMATION and form.get("confirm") != "yes":
        return _confirm(request, note, action, status)
    try:
        await comment_queue.apply(store, member.row.id, note_id, action)
    except ModerationError as exc:
        return error_page(request, 400, str(exc))
    target = f"/moderation?status={status}&done={action}&comment={note_id}"
    return RedirectResponse(target, status_code=303)
