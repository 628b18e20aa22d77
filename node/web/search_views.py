"""`/search`: the header's search box, over posts, offers and requests, members and the linked
network, with filters for kind and place."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from node.content import search

from .responses import node_of, render

QUERY_CHARS = 200
SCOPE_LABELS = (
    ("", "Here and on linked nodes"),
    ("here", "Only here"),
    ("network", "Only linked nodes"),
)
KIND_LABELS = (
    ("", "Everything"),
    ("posts", "Posts"),
    ("offers", "Offers and requests"),
    ("members", "Members"),
)


async def search_page(request: Request) -> Response:
    params = request.query_params
    query = params.get("q", "")[:QUERY_CHARS].strip()
    kind = params.get("kind", "")
    scope = params.get("scope", "")
    kind = kind if kind in search.KINDS else ""
    scope = scope if scope in search.SCOPES else ""
    node = node_of(request)
    found = await search.search(node, query, kind=kind, scope=scope) if query else {}
    return render(
        request,
        "search.html",
        query=query,
        kind=kind,
        scope=scope,
        found=found,
        total=sum(len(hits) for hits in found.values()),
        here=node.settings.host,
        kinds=KIND_LABELS,
        scopes=SCOPE_LABELS,
        headings={"posts": "Posts", "offers": "Offers and requests", "members": "Members"},
    )
