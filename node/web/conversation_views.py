"""What other servers fetch about the conversations around our posts: the QuoteAuthorization
stamps of quotes we allowed (FEP-044f)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from node.content import quotes

from .responses import activity_response, error_page, node_of


async def quote_authorization(request: Request) -> Response:
    """Served to anyone: a server shows a quote once it can fetch its authorization."""
    node = node_of(request)
    document = await quotes.authorization_document(node, request.path_params["public_id"])
    if document is None:
        return error_page(request, 404, "No such quote authorization.")
    return activity_response(document)
