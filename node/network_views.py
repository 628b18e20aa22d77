"""`/network/…`: the network feed, offers board and directory, as JSON (the HTML pages come
with the web interface)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from . import network
from .web import error_page, json_response, node_of

PAGES = {
    "feed": network.feed,
    "offers": network.offers_board,
}


async def network_page(request: Request) -> Response:
    """`/network/feed.json`, `/network/offers.json`, `/network/directory.json`."""
    node = node_of(request)
    name = request.path_params["name"]
    if name == "directory":
        return json_response(await network.directory(node), headers={"Vary": "Accept"})
    page = PAGES.get(name)
    if page is None:
        return error_page(request, 404, "No such network page.")
    return json_response(await page(node), headers={"Vary": "Accept"})
