"""`/search`: the header's search box, over posts, offers and requests, members and the linked
network, with filters for kind and place."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from node.content import search

from .i18n import N_
from .responses import node_of, render

QUERY_CHARS = 200
SCOPE_LABELS = (
    ("", N_("Here and on linked nodes")),
    ("here", N_("Only here")),
    ("network", N_("Only linked nodes")),
)
KIND_LABELS = (
    ("", N_("Everything")),
    ("posts", N_("Posts")),
    ("offers", N_("Offers and requests")),
    ("members", N_("Members")),
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
        headings={
            "posts": N_("Posts"),
            "offers": N_("Offers and requests"),
            "members": N_("Members"),
        },
    )
