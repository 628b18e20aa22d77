"""The one URL map."""

from __future__ import annotations

from pathlib import Path

from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from . import actor_views, discovery, inbox, pages, post_views

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"

ROUTES = [
    Route("/", pages.home),
    Route("/.well-known/webfinger", discovery.webfinger_endpoint),
    Route("/.well-known/host-meta", discovery.host_meta),
    Route("/.well-known/nodeinfo", discovery.nodeinfo_index),
    Route("/nodeinfo/2.1", discovery.nodeinfo_document),
    Route("/inbox", inbox.inbox_endpoint, methods=["POST"]),
    Route("/actor", actor_views.instance),
    Route("/about/node", actor_views.instance),
    Route("/actor/inbox", inbox.inbox_endpoint, methods=["POST"]),
    Route("/actor/{collection}", actor_views.instance_collection),
    Route("/users/{username}", actor_views.person),
    Route("/users/{username}/inbox", inbox.inbox_endpoint, methods=["POST"]),
    Route("/users/{username}/{collection}", actor_views.collection),
    Route("/groups/{username}", actor_views.group),
    Route("/groups/{username}/inbox", inbox.inbox_endpoint, methods=["POST"]),
    Route("/groups/{username}/{collection}", actor_views.collection),
    Route("/@{username}", actor_views.profile),
    Route("/posts/{public_id}", post_views.post_page),
    Route("/posts/{public_id}/replies", post_views.replies),
    Route("/notes/{public_id}", post_views.note_page),
    Route("/authorize_interaction", pages.authorize_interaction),
    Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
]
