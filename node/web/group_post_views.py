"""Posts to the Group (FEP-1b12) in the moderators' queue, beside held comments: approve (the
Group announces the post and its author is trusted) or reject, as `conode group-posts` does
(node/network/group_posts.py)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from node.content import avatars, html, threads
from node.context import Node
from node.federation.actors import LocalActor
from node.network import group_posts
from node.storage import GroupPostReplyRow, GroupPostRow

from .guards import for_moderators_form, text_field
from .i18n import N_
from .responses import error_page, node_of

ACTIONS = ("approve", "reject")
BUTTONS = (("approve", N_("Approve"), ""), ("reject", N_("Reject"), "secondary"))
NOTICES = {
    "post_approve": N_("Post {id} to the Group approved: the Group announces it."),
    "post_reject": N_("Post {id} to the Group rejected: it is not announced."),
}


@dataclass(frozen=True)
class GroupPostView:
    row: GroupPostRow | GroupPostReplyRow
    content_html: str  # sanitised when stored (node/network/group_posts.py) and again here
    author_name: str
    author_handle: str
    author_url: str | None
    avatar_url: str
    url: str | None  # the original, on its author's server


async def views(
    node: Node, rows: Sequence[GroupPostRow | GroupPostReplyRow]
) -> list[GroupPostView]:
    """How each post (or reply) is shown, with its author's name and handle (one query)."""
    actors = await node.store.remote_actors_by_id(list({row.author_id for row in rows}))
    shown = []
    for row in rows:
        document = json.loads(row.document or "{}")
        name, handle, profile = threads.remote_author(row.author_id, actors.get(row.author_id))
        url = threads.safe_url(str(document.get("url") or "")) or threads.safe_url(row.object_id)
        content = html.sanitize_comment(str(document.get("content") or ""))
        avatar = avatars.avatar_path(row.author_id)
        shown.append(GroupPostView(row, content, name, handle, profile, avatar, url))
    return shown


def buttons(status: str) -> list[tuple[str, str, str]]:
    """The actions that change something for posts with this status (none once deleted)."""
    if status == "deleted":
        return []
    already = {"approved": "approve", "rejected": "reject"}.get(status)
    return [b for b in BUTTONS if b[0] != already]


@for_moderators_form
async def act(request: Request, member: LocalActor, form: FormData) -> Response:
    post_id = int(request.path_params["post_id"])
    action = text_field(form, "action", 32)
    status = text_field(form, "status", 16)
    status = status if status in group_posts.STATUSES else "pending"
    node = node_of(request)
    if action not in ACTIONS:
        return error_page(request, 400, "Choose approve or reject.")
    row = await node.store.group_post_by_id(post_id)
    if row is None or row.status == "deleted":
        return error_page(request, 404, "No such post to the Group.")
    if action == "approve":
        if await group_posts.is_blocked(node, row):
            return error_page(
                request, 400, "The post's author or server is blocked: it is not announced."
            )
        try:
            await group_posts.approve(node, post_id)
        except group_posts.GroupPostError:  # blocked since the check above
            return error_page(request, 409, "The post could not be approved; try again.")
    else:
        await group_posts.reject(node, post_id)
    target = f"/moderation?status={status}&done=post_{action}&post={post_id}"
    return RedirectResponse(target, status_code=303)
