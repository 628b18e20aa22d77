"""Public HTML pages that are not an actor's: home, the node's about page, interaction lookups."""

from __future__ import annotations

from datetime import UTC, date, datetime

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from node.content.publishing import ARTICLE_KINDS
from node.federation.actors import local_actor
from node.network import overview as network
from node.storage import utcnow

from . import network_views, offer_pages, paging
from .responses import error_page, node_of, render

HOME_NETWORK_ITEMS = 5
MEMBERS = 48  # the home page names the first members; a national network has thousands
MEMBER_LIST_PAGE = 60


async def home(request: Request) -> Response:
    node = node_of(request)
    members = [local_actor(node.settings, row) for row in await node.store.members(limit=MEMBERS)]
    group_row = await node.store.local_actor(node.settings.group_handle)
    group = local_actor(node.settings, group_row) if group_row else None
    page = await node.store.posts_page(paging.window(request), kinds=ARTICLE_KINDS)
    rows = await node.store.local_actors_by_row_id([post.author_id for post in page.items])
    authors = {row_id: local_actor(node.settings, row) for row_id, row in rows.items()}
    posts = [(post, authors.get(post.author_id)) for post in page.items]
    return render(
        request,
        "home.html",
        posts=posts,
        pager=paging.links(request, page),
        members=members,
        members_total=await node.store.count_local_actors("Person"),
        group=group,
        group_handle=f"@{node.settings.group_handle}@{node.settings.host}",
        offers=await offer_pages.items(
            node, await node.store.offers_listing(kind=None, category=None, state="open", limit=10)
        ),
        network_feed=[
            network_views.shown_entry(entry)
            for entry in await network.linked_feed(node, limit=HOME_NETWORK_ITEMS)
        ],
    )


async def member_list(request: Request) -> Response:
    """`/members`: everyone who may sign in, with their picture, name and handle, in pages."""
    node = node_of(request)
    page = await node.store.public_members_page(paging.window(request, MEMBER_LIST_PAGE))
    members = [local_actor(node.settings, row) for row in page.items]
    pager = paging.links(request, page)
    return render(
        request, "member_list.html", members=members, pager=pager, host=node.settings.host
    )


async def authorize_interaction(request: Request) -> Response:
    """Where other servers send their users (our WebFinger subscribe template)."""
    uri = request.query_params.get("uri", "")
    node = node_of(request)
    if uri.startswith(node.settings.url + "/"):
        return RedirectResponse(uri, status_code=303)
    return error_page(request, 404, "That address is not on this node.")


def _months(first: datetime, last: datetime) -> list[date]:
    """The first day of every month from `first`'s to `last`'s, newest first."""
    months, month = [], date(first.year, first.month, 1)
    while month <= last.date():
        months.append(month)
        month = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return months[::-1]


async def archive(request: Request) -> Response:
    """`/archive`: every month since the first post, each a link to its posts."""
    first = await node_of(request).store.first_published(ARTICLE_KINDS)
    months = _months(first, utcnow()) if first else []
    return render(request, "archive.html", months=months)


async def archive_month(request: Request) -> Response:
    """`/archive/{year}-{month}`: the reports and blog posts published that month, in pages."""
    try:
        start = datetime.strptime(request.path_params["month"], "%Y-%m").replace(tzinfo=UTC)
    except ValueError:
        return error_page(request, 404, "The archive has months like 2025-06.")
    end = datetime(start.year + start.month // 12, start.month % 12 + 1, 1, tzinfo=UTC)
    node = node_of(request)
    window = paging.window(request)
    page = await node.store.posts_page(window, kinds=ARTICLE_KINDS, between=(start, end))
    return render(
        request,
        "archive_month.html",
        month=start,
        posts=page.items,
        pager=paging.links(request, page),
    )
