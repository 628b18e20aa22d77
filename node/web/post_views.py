"""A post at its one URL (Article JSON or HTML page with approved comments), its `replies`
collection (what Mastodon >= 4.5 crawls to show a thread), and our members' notes."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from activitypub import objects
from activitypub.vocab import Document
from node.accounts import sessions
from node.cache import views as visits
from node.cache.comments import RenderedComments
from node.content import html, quotes, threads
from node.content.publishing import article_document, author_of, group_actor, post_id
from node.context import Node, flush_views
from node.federation import integrity, limits
from node.federation.actors import LocalActor
from node.storage import MediaRow, PostRow

from . import i18n, page_cache, paging
from .responses import (
    activity_response,
    error_page,
    node_of,
    render,
    render_fragment,
    wants_json,
)

REPLIES_PAGE_SIZE = 20
THREADS_PER_PAGE = 50  # top-level comments on a page of a post, each with all its replies


async def post_or_error(request: Request, post: PostRow | None = None) -> PostRow | Response:
    """The post the URL names (`post` when the caller has read it already), or the error page."""
    node = node_of(request)
    if post is None:
        post = await node.store.post(request.path_params["public_id"])
    if post is None:
        return error_page(request, 404, "No such post.")
    if post.deleted_at is not None:
        tombstone = objects.tombstone(post_id(node, post), post.deleted_at, "Article")
        if wants_json(request):
            return activity_response(tombstone, status_code=410)
        return error_page(request, 410, "This post was deleted by its author.")
    return post


async def post_page(request: Request, post: PostRow | None = None) -> Response:
    found = await post_or_error(request, post)
    if isinstance(found, Response):
        return found
    node = node_of(request)
    author, group, media = await asyncio.gather(
        author_of(node, found), group_actor(node), node.store.media_of_post(found.id or 0)
    )
    document = article_document(node, found, author, group.actor_id if group else None, media)
    if wants_json(request):  # signed, so it can be passed on and trusted (FEP-8b32)
        return activity_response(await integrity.signed_object(node, author, document))
    return await render_post(request, found, author, document, media=media)


async def render_post(
    request: Request,
    found: PostRow,
    author: LocalActor,
    document: Document,
    offer: dict[str, Any] | None = None,
    *,
    media: list[MediaRow] | None = None,
) -> Response:
    """The post's page; an offer or request comes with its terms (node/web/offer_pages.py)."""
    node = node_of(request)
    row_id = found.id or 0
    if media is None:
        media = await node.store.media_of_post(row_id)
    page = _comment_page(request)
    # Read side by side: each read waits for a turn of the event loop, and in a stampede a turn
    # is long (every kept copy served meanwhile), so reads one after another would make the
    # first render of a post everyone fetches at once the slowest request of all.
    comments, reactions, stored_views, shown_quotes = await asyncio.gather(
        _comments(request, found, page),
        node.store.reaction_counts(document["id"]),
        node.store.views_of(row_id),
        quotes.quotes_of(node, found),
    )
    if page > comments.pages:
        return error_page(request, 404, "This post has no page of comments with that number.")
    if visits.counts_as_view(request):
        node.views.add(row_id)
    views = stored_views + node.views.pending(row_id)
    page_cache.count_view_of(request, row_id, views)  # each time a kept copy is served, too
    response = render(
        request,
        "post.html",
        post=found,
        content_html=html.without_remote_images(found.content_html, node.settings.url),
        document=document,
        author=author,
        media=media,
        comments_html=comments.html,
        comment_count=comments.count,
        pager=_comment_links(request, page, comments.pages),
        likes=reactions.get("Like", 0),
        boosts=reactions.get("Announce", 0),
        quotes=shown_quotes,
        views=views,
        offer=offer,
    )
    if node.views.due():
        response.background = BackgroundTask(flush_views, node)  # after the page is sent
    return response


def _comment_page(request: Request) -> int:
    raw = request.query_params.get("comments")
    page = limits.page_number(raw)
    if raw is not None and page is None:
        raise paging.BadPageLink(raw)
    return page or 1


def _comment_links(request: Request, page: int, pages: int) -> paging.PageLinks:
    path = request.url.path
    return paging.PageLinks(
        f"{path}?comments={page + 1}" if page < pages else None,
        (f"{path}?comments={page - 1}" if page > 2 else path) if page > 1 else None,
    )


async def _comments(request: Request, post: PostRow, page: int) -> RenderedComments:
    """A page of the comment threads, as kept for anonymous visitors or rendered for the
    signed-in one."""
    node = node_of(request)
    row_id, version = post.id or 0, post.comments_version
    anonymous = sessions.viewer(request) is None
    language = i18n.language_of(request)
    kept = node.comments.get(row_id, version, page, language) if anonymous else None
    if kept is not None:
        return kept
    links = await node.store.comment_links(row_id)
    pages = threads.thread_pages(links, THREADS_PER_PAGE)
    shown = pages[page - 1] if page <= len(pages) else []
    views = await threads.comment_views(node, await node.store.notes_by_ids(shown))
    markup = render_fragment(request, "_comments.html", post=post, comments=threads.thread(views))
    rendered = RenderedComments(version, markup, len(links), max(len(pages), 1))
    if anonymous:
        node.comments.put(row_id, rendered, page, language)
    return rendered


async def replies(request: Request) -> Response:
    found = await post_or_error(request)
    if isinstance(found, Response):
        return found
    node = node_of(request)
    collection_id = f"{post_id(node, found)}/replies"
    total = await node.store.count_visible_comments(found.id or 0)
    raw_page = request.query_params.get("page")
    page = limits.page_number(raw_page)
    first = _replies_page(collection_id, 1, await _reply_ids(node, found, 1), total)
    if page is None:
        return activity_response(objects.collection(collection_id, total, first))
    items = await _reply_ids(node, found, page)
    document = _replies_page(collection_id, page, items, total)
    document["@context"] = "https://www.w3.org/ns/activitystreams"
    return activity_response(document)


async def _reply_ids(node: Node, post: PostRow, page: int) -> list[str]:
    offset = (page - 1) * REPLIES_PAGE_SIZE
    notes = await node.store.visible_comments(post.id or 0, limit=REPLIES_PAGE_SIZE, offset=offset)
    return [note.object_id for note in notes]


def _replies_page(collection_id: str, page: int, items: list[str], total: int) -> Document:
    has_next = page * REPLIES_PAGE_SIZE < total
    next_id = f"{collection_id}?page={page + 1}" if has_next else None
    return objects.collection_page(f"{collection_id}?page={page}", collection_id, items, next_id)


async def note_page(request: Request) -> Response:
    """One of our members' replies: the Note we published (receivers fetch it to verify)."""
    node = node_of(request)
    object_id = f"{node.settings.url}/notes/{request.path_params['public_id']}"
    note = await node.store.note(object_id)
    if note is None or note.local_author_id is None or note.document is None:
        return error_page(request, 404, "No such note.")
    if note.status == "deleted":
        tombstone = objects.tombstone(object_id, note.updated_at or note.created_at, "Note")
        return activity_response(tombstone, status_code=410)
    if wants_json(request):
        return activity_response(json.loads(note.document))
    if note.post_id is not None:
        post = await node.store.post_by_id(note.post_id)
        if post is not None:
            page = await _page_of(node, post, note.id or 0)
            query = f"?comments={page}" if page > 1 else ""
            target = f"{post_id(node, post)}{query}#comment-{note.id}"
            return RedirectResponse(target, status_code=303, headers={"Vary": "Accept"})
    return RedirectResponse(note.in_reply_to, status_code=303, headers={"Vary": "Accept"})


async def _page_of(node: Node, post: PostRow, note_id: int) -> int:
    """The page of the post's comments that shows this one (1 when it is not shown)."""
    pages = threads.thread_pages(await node.store.comment_links(post.id or 0), THREADS_PER_PAGE)
    return next((n for n, ids in enumerate(pages, 1) if note_id in ids), 1)


async def tag_page(request: Request) -> Response:
    """`/tags/{name}`: where our Hashtag `href`s point; our posts carrying that tag."""
    node = node_of(request)
    name = request.path_params["name"].lower()
    if not name.replace("_", "").isalnum():
        return error_page(request, 404, "No such tag.")
    page = await node.store.posts_page(paging.window(request), tag=name)
    items = [(post, post_id(node, post)) for post in page.items]
    return render(request, "tag.html", tag=name, posts=items, pager=paging.links(request, page))
