"""Give-and-take endpoints: an offer's Note at its post URL, the board as an outbox-style
collection for other nodes (`/offers`, and one per category: the URI an offer's
`resourceConformsTo` names), and agreements at their ids. People get HTML at the same URLs
(node/web/offer_pages.py)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from activitypub import objects
from activitypub.webfinger import host_of
from node.content import html
from node.content.publishing import author_of, post_id, published_document
from node.context import Node
from node.federation import integrity
from node.offers import matching
from node.offers import proposals as offers
from node.offers.terms import KINDS, category_slug
from node.storage import RemoteActorRow

from . import offer_pages, post_views
from .responses import activity_response, error_page, node_of, render, wants_json

BOARD_PAGE_SIZE = 20


async def post_page(request: Request) -> Response:
    """`/posts/{id}`: an offer or request is a Note; other posts are served by post_views."""
    node = node_of(request)
    post = await node.store.post(request.path_params["public_id"])
    html_page = not wants_json(request)
    if post is None or post.kind not in KINDS or (html_page and post.deleted_at is not None):
        return await post_views.post_page(request, post)
    if html_page:
        author = await author_of(node, post)
        article = await published_document(node, post, author)
        context = await offer_pages.offer_context(request, post)
        return await post_views.render_post(request, post, author, article, context)
    if post.deleted_at is not None:
        tombstone = objects.tombstone(post_id(node, post), post.deleted_at, "Note")
        return activity_response(tombstone, status_code=410)
    document = await offers.document_of(node, post)
    if document is None:
        return error_page(request, 404, "No such offer.")
    author = await author_of(node, post)  # signed, like posts (FEP-8b32)
    return activity_response(await integrity.signed_object(node, author, document))


async def _board(request: Request, collection_id: str, category: str | None) -> Response:
    node = node_of(request)
    total = await node.store.count_offers(category=category)
    raw = request.query_params.get("page", "")
    if not raw.isdigit() or int(raw) < 1:
        first = f"{collection_id}?page=1"
        return activity_response(objects.ordered_collection(collection_id, total, first))
    page = int(raw)
    offset = (page - 1) * BOARD_PAGE_SIZE
    board = await node.store.offers_board(category=category, limit=BOARD_PAGE_SIZE, offset=offset)
    items = [await offers.document_of(node, post) for post, _ in board]
    next_id = f"{collection_id}?page={page + 1}" if offset + len(board) < total else None
    document = objects.ordered_collection_page(
        f"{collection_id}?page={page}", collection_id, [item for item in items if item], next_id
    )
    return activity_response(document)


async def board(request: Request) -> Response:
    """`/offers`: open offers and requests first, then by category, newest first."""
    if not wants_json(request):
        return await offer_pages.board_page(request)
    return await _board(request, f"{node_of(request).settings.url}/offers", None)


async def category_board(request: Request) -> Response:
    node = node_of(request)
    slug = request.path_params["name"].lower()
    if slug not in {category_slug(name) for name in node.settings.offer_categories}:
        return error_page(request, 404, "No such category.")
    return await _board(request, offers.category_id(node, slug), slug)


async def agreement_page(request: Request) -> Response:
    node = node_of(request)
    object_id = f"{node.settings.url}/agreements/{request.path_params['public_id']}"
    agreement = await node.store.agreement(object_id)
    if agreement is None or agreement.offer_id is None:
        return error_page(request, 404, "No such agreement.")
    if wants_json(request):
        return activity_response(matching.agreement_document(agreement))
    names = await node.store.remote_actors_by_id([agreement.provider_id, agreement.receiver_id])
    return render(
        request,
        "agreement.html",
        agreement=agreement,
        provider=_who(node, agreement.provider_id, names),
        receiver=_who(node, agreement.receiver_id, names),
        document_id=object_id,
    )


def _who(node: Node, actor_id: str, remote: dict[str, RemoteActorRow]) -> dict[str, str]:
    """How a party to an agreement is named: @name@host, linked to their actor (http(s) only)."""
    row = remote.get(actor_id)
    name = row.username if row and row.username else actor_id.rstrip("/").rsplit("/", 1)[-1]
    host = node.settings.host if actor_id.startswith(node.settings.url + "/") else host_of(actor_id)
    return {"handle": f"@{name}@{host}", "url": html.safe_url(actor_id) or ""}
