"""The "From members elsewhere" page (/elsewhere): posts that accounts elsewhere addressed to
the Group and a moderator approved (FEP-1b12, node/network/group_posts.py), newest first, each
with the replies that reached our inbox. Blocked authors' posts and replies are left out, and
deleted ones are gone."""

from __future__ import annotations

from dataclasses import dataclass, field

from starlette.requests import Request
from starlette.responses import Response

from . import paging
from .group_post_views import GroupPostView, views
from .responses import node_of, render


@dataclass
class ElsewhereItem:
    post: GroupPostView
    replies: list[GroupPostView] = field(default_factory=list)


async def page(request: Request) -> Response:
    node = node_of(request)
    shown = await node.store.shown_group_posts_page(paging.window(request))
    items = {item.row.id: ElsewhereItem(item) for item in await views(node, shown.items)}
    replies = await node.store.group_post_replies(list(items))
    for row, reply in zip(replies, await views(node, replies), strict=True):
        items[row.group_post_id].replies.append(reply)
    return render(
        request,
        "elsewhere.html",
        items=list(items.values()),
        pager=paging.links(request, shown),
        section="elsewhere",
    )
