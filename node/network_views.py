"""`/network/…`: the network feed, offers board and directory, as JSON (the HTML pages come
with the web interface)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from activitypub.signatures import SignatureError

from . import network, remote, shared_blocks
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


async def blocks(request: Request) -> Response:
    """Our domain blocks, for the nodes linked with us (signed requests only)."""
    node = node_of(request)
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    try:
        signer = await remote.verify_signature(node, "GET", target, dict(request.headers), b"")
    except SignatureError as exc:
        return json_response({"error": f"sign this request ({exc.reason})"}, status=401)
    if not await shared_blocks.may_read_blocks(node, signer):
        return json_response({"error": "only linked nodes may read this"}, status=403)
    return json_response(await shared_blocks.blocks_document(node), headers={"Vary": "Signature"})
