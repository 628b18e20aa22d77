"""`/network`: the network's page (directory, feed, offers board) for people, and the same
as JSON under `/network/….json` for programs and other nodes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from activitypub import objects
from activitypub.signatures import SignatureError
from node.content import html
from node.federation import remote
from node.network import overview as network
from node.network import shared_blocks

from . import i18n, paging, pictures
from .responses import activity_response, error_page, json_response, node_of, render

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
    """Our blocks, for the nodes linked with us (signed requests only)."""
    node = node_of(request)
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    try:
        signer = await remote.verify_signature(node, "GET", target, dict(request.headers), b"")
    except SignatureError as exc:
        return json_response({"error": f"sign this request ({exc.reason})"}, status=401)
    if not await shared_blocks.may_read_blocks(node, signer):
        return json_response({"error": "only linked nodes may read this"}, status=403)
    return json_response(await shared_blocks.blocks_document(node), headers={"Vary": "Signature"})


NETWORK_PAGE_ITEMS = 20
FEED_PAGE_ITEMS = 50
SUMMARY_CHARS = 280


async def network_home(request: Request) -> Response:
    """`/network`: every node in the network, then what they publish, newest first."""
    node = node_of(request)
    page = await network.feed_page(node, paging.window(request, NETWORK_PAGE_ITEMS))
    nodes = [shown_node(entry) for entry in await network.directory(node)]
    return render(
        request,
        "network.html",
        nodes=nodes,
        network_map=pictures.network_map(nodes, i18n.language_of(request)),
        feed=[shown_entry(e) for e in page.items],
        pager=paging.links(request, page),
        offers=[shown_entry(e) for e in await network.offers_board(node, limit=NETWORK_PAGE_ITEMS)],
    )


async def feed_collection(request: Request) -> Response:
    """`/network/feed`: the network feed as an ActivityStreams OrderedCollection of object ids,
    newest first, in keyset pages (`?page=true`, then `&after=`), so other software can
    follow it; linked from NodeInfo `metadata.networkFeed` and the Group actor's `streams`."""
    node = node_of(request)
    collection_id = f"{node.settings.url}/network/feed"
    if "page" not in request.query_params:
        total = await node.store.count_posts() + await node.store.count_linked_posts()
        return activity_response(
            objects.ordered_collection(collection_id, total, f"{collection_id}?page=true")
        )
    page = await network.feed_page(node, paging.window(request, FEED_PAGE_ITEMS))
    following = f"{collection_id}?page=true&after={page.next.token()}" if page.next else None
    this = f"{collection_id}?{request.url.query}"
    items = [entry["id"] for entry in page.items]
    return activity_response(objects.ordered_collection_page(this, collection_id, items, following))


def shown_entry(entry: dict[str, Any]) -> dict[str, Any]:
    """A feed entry as a page shows it: remote text as plain text, links only to http(s)."""
    published = entry["published"]
    return {
        "title": html.plain_text(entry["title"], 200) or "(untitled)",
        "kind": entry["post_kind"] if entry["local"] else entry["kind"],
        "href": html.safe_url(entry["url"]),
        "summary": html.plain_text(entry["summary"], SUMMARY_CHARS),
        "origin_host": entry["origin_host"],
        "local": entry["local"],
        "published": datetime.fromisoformat(published) if published else None,
    }


def shown_node(entry: dict[str, Any]) -> dict[str, Any]:
    heard = entry["last_heard_at"]
    if entry["state"] == "self":
        status = "this node"
    elif entry["reachable"] is None:
        status = "not checked yet"
    else:
        status = "reachable" if entry["reachable"] else "unreachable"
    return {
        "name": entry["name"] or entry["handle"],
        "href": html.safe_url(entry["url"]),
        "handle": entry["handle"],
        "members": entry["members"],
        "status": status,
        "last_heard": datetime.fromisoformat(heard) if heard else None,
    }
