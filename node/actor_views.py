"""Actor endpoints: the actor document or profile page at one URL, and its collections."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from activitypub import objects

from .actors import LocalActor, actor_document, local_actor
from .web import activity_response, error_page, node_of, render, wants_json

COLLECTIONS = ("outbox", "followers", "following", "featured")


async def _actor_from_path(request: Request, kind: str) -> LocalActor | None:
    node = node_of(request)
    if kind == "Application":
        row = await node.store.local_actor_of_kind("Application")
    else:
        row = await node.store.local_actor(request.path_params["username"].lower())
    if row is None or row.kind != kind:
        return None
    return local_actor(node.settings, row)


def _actor_or_profile(request: Request, actor: LocalActor) -> Response:
    if wants_json(request):
        return activity_response(actor_document(node_of(request).settings, actor))
    return render(request, "profile.html", actor=actor, handle=_handle(request, actor))


def _handle(request: Request, actor: LocalActor) -> str:
    return f"@{actor.username}@{node_of(request).settings.host}"


async def person(request: Request) -> Response:
    actor = await _actor_from_path(request, "Person")
    if actor is None:
        return error_page(request, 404, "No member by that name here.")
    return _actor_or_profile(request, actor)


async def group(request: Request) -> Response:
    actor = await _actor_from_path(request, "Group")
    if actor is None:
        return error_page(request, 404, "No group by that name here.")
    return _actor_or_profile(request, actor)


async def instance(request: Request) -> Response:
    actor = await _actor_from_path(request, "Application")
    if actor is None:
        return error_page(request, 404, "This node has not been initialised: run `conode init`.")
    return _actor_or_profile(request, actor)


async def profile(request: Request) -> Response:
    """`/@name`: the profile URL Mastodon links to; negotiates like the actor id."""
    node = node_of(request)
    row = await node.store.local_actor(request.path_params["username"].lower())
    if row is None or row.kind == "Application":
        return error_page(request, 404, "No one by that name here.")
    actor = local_actor(node.settings, row)
    if wants_json(request):
        return RedirectResponse(actor.actor_id, status_code=302, headers={"Vary": "Accept"})
    return _actor_or_profile(request, actor)


async def collection(request: Request) -> Response:
    """Outbox, followers, following, featured: empty until federation fills them."""
    node = node_of(request)
    row = await node.store.local_actor(request.path_params["username"].lower())
    name = request.path_params["collection"]
    prefix = "/groups/" if request.url.path.startswith("/groups/") else "/users/"
    expected = "Group" if prefix == "/groups/" else "Person"
    if row is None or row.kind != expected or name not in COLLECTIONS:
        return error_page(request, 404, "No such collection.")
    actor = local_actor(node.settings, row)
    collection_id = f"{actor.actor_id}/{name}"
    return activity_response(objects.ordered_collection(collection_id, total=0))


async def instance_collection(request: Request) -> Response:
    node = node_of(request)
    name = request.path_params["collection"]
    if name not in COLLECTIONS:
        return error_page(request, 404, "No such collection.")
    collection_id = f"{node.settings.url}/actor/{name}"
    return activity_response(objects.ordered_collection(collection_id, total=0))
