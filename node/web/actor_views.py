"""Actor endpoints: the actor document or profile page at one URL, and its collections."""

from __future__ import annotations

import json

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from activitypub import objects
from activitypub.vocab import Document
from node.content.publishing import post_id, published_document
from node.context import Node
from node.federation import limits
from node.federation.actors import LocalActor, actor_document, local_actor
from node.network import sharing
from node.offers import proposals as offers
from node.storage import Page, PostRow

from . import offer_pages, paging
from .responses import activity_response, error_page, node_of, render, wants_json

COLLECTIONS = ("outbox", "followers", "following", "featured")
OUTBOX_PAGE_SIZE = 20


async def _actor_from_path(request: Request, kind: str) -> LocalActor | None:
    node = node_of(request)
    if kind == "Application":
        row = await node.store.local_actor_of_kind("Application")
    else:
        row = await node.store.local_actor(request.path_params["username"].lower())
    if row is None or row.kind != kind:
        return None
    return local_actor(node.settings, row)


async def _actor_or_profile(request: Request, actor: LocalActor) -> Response:
    node = node_of(request)
    if wants_json(request):
        return activity_response(actor_document(node.settings, actor))
    page: Page[PostRow] = Page([], None, None)
    open_offers: list[offer_pages.OfferItem] = []
    if actor.kind == "Person":
        page = await node.store.posts_page(paging.window(request), author_id=actor.row.id)
        open_offers = await offer_pages.items(node, await node.store.open_offers_of(actor.row.id))
    return render(
        request,
        "profile.html",
        actor=actor,
        handle=_handle(request, actor),
        posts=page.items,
        open_offers=open_offers,
        pager=paging.links(request, page),
        moved_handle=await _moved_handle(request, actor),
    )


async def _moved_handle(request: Request, actor: LocalActor) -> str | None:
    """@user@host of the account a member moved to, when we know that account."""
    if actor.row.moved_to is None:
        return None
    known = await node_of(request).store.remote_actor(actor.row.moved_to)
    return known.handle if known and known.username else None


def _handle(request: Request, actor: LocalActor) -> str:
    return f"@{actor.username}@{node_of(request).settings.host}"


async def person(request: Request) -> Response:
    actor = await _actor_from_path(request, "Person")
    if actor is None:
        return error_page(request, 404, "No member by that name here.")
    if actor.row.deleted_at is not None:
        if wants_json(request):
            gone = objects.tombstone(actor.actor_id, actor.row.deleted_at, "Person")
            # The key stays readable so a server can still verify the actor's own Delete,
            # which is signed with it and may arrive after this Tombstone is served.
            gone["publicKey"] = actor_document(node_of(request).settings, actor)["publicKey"]
            return activity_response(gone, status_code=410)
        return error_page(request, 410, "This account was deleted.")
    return await _actor_or_profile(request, actor)


async def group(request: Request) -> Response:
    actor = await _actor_from_path(request, "Group")
    if actor is None:
        return error_page(request, 404, "No group by that name here.")
    return await _actor_or_profile(request, actor)


async def instance(request: Request) -> Response:
    actor = await _actor_from_path(request, "Application")
    if actor is None:
        return error_page(request, 404, "This node has not been initialised: run `conode init`.")
    return await _actor_or_profile(request, actor)


async def profile(request: Request) -> Response:
    """`/@name`: the profile URL Mastodon links to; negotiates like the actor id."""
    node = node_of(request)
    row = await node.store.local_actor(request.path_params["username"].lower())
    if row is None or row.kind == "Application":
        return error_page(request, 404, "No one by that name here.")
    actor = local_actor(node.settings, row)
    if wants_json(request):
        return RedirectResponse(actor.actor_id, status_code=302, headers={"Vary": "Accept"})
    if row.deleted_at is not None:
        return error_page(request, 410, "This account was deleted.")
    return await _actor_or_profile(request, actor)


async def collection(request: Request) -> Response:
    """followers and following show counts only (who follows whom is not published);
    outbox pages hold the actor's posts; featured is empty until pinning exists."""
    node = node_of(request)
    row = await node.store.local_actor(request.path_params["username"].lower())
    name = request.path_params["collection"]
    expected = "Group" if request.url.path.startswith("/groups/") else "Person"
    if row is None or row.kind != expected or name not in COLLECTIONS:
        return error_page(request, 404, "No such collection.")
    actor = local_actor(node.settings, row)
    collection_id = f"{actor.actor_id}/{name}"
    if name == "outbox":
        return await _outbox(request, actor, collection_id)
    total = 0
    if name == "followers":
        total = await node.store.follower_count(row.id)
    elif name == "following":
        total = await node.store.following_count(row.id)
    return activity_response(objects.ordered_collection(collection_id, total=total))


async def _outbox(request: Request, actor: LocalActor, collection_id: str) -> Response:
    node = node_of(request)
    is_group = actor.kind == "Group"
    author_id = None if is_group else actor.row.id
    total = await node.store.count_posts(author_id)
    if is_group:
        total += await node.store.count_announced_linked_posts()
    page = limits.page_number(request.query_params.get("page"))
    if page is None:
        first = f"{collection_id}?page=1"
        return activity_response(objects.ordered_collection(collection_id, total, first))
    offset = (page - 1) * OUTBOX_PAGE_SIZE
    if is_group:
        items = await _group_items(node, actor, offset)
    else:
        posts = await node.store.posts_by(actor.row.id, limit=OUTBOX_PAGE_SIZE, offset=offset)
        items = [await _outbox_item(node, actor, post) for post in posts]
    next_id = f"{collection_id}?page={page + 1}" if offset + len(items) < total else None
    document = objects.ordered_collection_page(
        f"{collection_id}?page={page}", collection_id, items, next_id
    )
    return activity_response(document)


async def _group_items(node: Node, group: LocalActor, offset: int) -> list[Document]:
    """The group's Announces, newest first: of every post on the node and of what it passed on
    from linked nodes (a node that was down reads these to catch up)."""
    wanted = offset + OUTBOX_PAGE_SIZE
    local = [(p.published_at, post_id(node, p)) for p in await node.store.recent_posts(wanted)]
    passed = await node.store.announced_linked_posts(limit=wanted)
    shared = [(row.published_at, row.object_id) for row in passed]
    signed = {row.object_id: row.signed_document for row in passed if row.signed_document}
    entries = sorted(local + shared, key=lambda entry: entry[0], reverse=True)
    addressing = objects.public_addressing(f"{group.actor_id}/followers")
    items = []
    for published, object_id in entries[offset:wanted]:
        if object_id.startswith(node.settings.url + "/"):
            item = objects.announce(f"{object_id}/announce", group.actor_id, object_id, addressing)
        else:  # embedded as its author signed it, when it was (a node catching up needs it)
            document = json.loads(signed[object_id]) if object_id in signed else None
            item = sharing.group_announce(group, object_id, document)
        item["published"] = objects.isoformat(published)
        items.append(item)
    return items


async def _outbox_item(node: Node, actor: LocalActor, post: PostRow) -> Document:
    """A member's outbox item: the Create of the post (the group's are `_group_items`)."""
    object_id = post_id(node, post)
    document = await offers.document_of(node, post)  # offers and requests are Notes
    document = document or await published_document(node, post, actor)
    return objects.create(f"{object_id}/activity", document)


async def instance_collection(request: Request) -> Response:
    node = node_of(request)
    name = request.path_params["collection"]
    if name not in COLLECTIONS:
        return error_page(request, 404, "No such collection.")
    collection_id = f"{node.settings.url}/actor/{name}"
    return activity_response(objects.ordered_collection(collection_id, total=0))
