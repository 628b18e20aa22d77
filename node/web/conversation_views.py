"""What other servers fetch about the conversations around our posts: each post's `context`
collection (FEP-7888) and the QuoteAuthorization stamps of quotes we allowed (FEP-044f)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from node.content import conversations, publishing, quotes
from node.federation import limits

from .responses import activity_response, error_page, node_of


async def quote_authorization(request: Request) -> Response:
    """Served to anyone: a server shows a quote once it can fetch its authorization."""
    node = node_of(request)
    document = await quotes.authorization_document(node, request.path_params["public_id"])
    if document is None:
        return error_page(request, 404, "No such quote authorization.")
    return activity_response(document)


async def context(request: Request) -> Response:
    """The post and its public comments, served to anyone (FEP-7888): software that reads a
    thread by its context sees every comment. `?page=N` for later pages."""
    node = node_of(request)
    post = await node.store.post(request.path_params["public_id"])
    if post is None or post.deleted_at is not None:
        return error_page(request, 404, "No such post.")
    page = limits.page_number(request.query_params.get("page")) or 1
    items, total = await conversations.context_page(node, post, page)
    author = await publishing.author_of(node, post)
    document = conversations.context_collection(
        conversations.context_id(node, post), author.actor_id, items, total, page
    )
    return activity_response(document)
