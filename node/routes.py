"""The one URL map."""

from __future__ import annotations

from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from . import (
    actor_views,
    admin_pages,
    admin_views,
    auth_views,
    discovery,
    inbox,
    member_views,
    network_views,
    offer_views,
    pages,
    post_views,
    public_views,
)
from .web import STATIC_DIR

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
    Route("/posts/{public_id}", offer_views.post_page),
    Route("/posts/{public_id}/replies", post_views.replies),
    Route("/notes/{public_id}", post_views.note_page),
    Route("/tags/{name}", post_views.tag_page),
    Route("/authorize_interaction", pages.authorize_interaction),
    # the web interface (issue 7)
    Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
    Route("/login", auth_views.login_page, methods=["GET"]),
    Route("/login", auth_views.login, methods=["POST"]),
    Route("/logout", auth_views.logout, methods=["POST"]),
    Route("/write", member_views.write_page, methods=["GET"]),
    Route("/write", member_views.write, methods=["POST"]),
    Route("/posts/{public_id}/edit", member_views.edit_page, methods=["GET"]),
    Route("/posts/{public_id}/edit", member_views.edit, methods=["POST"]),
    Route("/posts/{public_id}/comments", member_views.comment, methods=["POST"]),
    Route("/media/{public_id}", public_views.media),
    Route("/about", public_views.about),
    Route("/about/edit", admin_pages.about_editor, methods=["GET"]),
    Route("/about/edit", admin_pages.save_about, methods=["POST"]),
    Route("/interact", public_views.interact),
    Route("/feed.{format}", public_views.feed),
    Route("/@{username}/feed.{format}", public_views.feed),
    Route("/moderation", admin_views.queue),
    Route("/moderation/comments/{note_id:int}", admin_views.act, methods=["POST"]),
    Route("/moderation/reports", admin_pages.reports),
    Route("/moderation/blocks", admin_pages.blocks, methods=["GET"]),
    Route("/moderation/blocks", admin_pages.change_block, methods=["POST"]),
    Route("/moderation/log", admin_pages.activity_log),
    Route("/offers", offer_views.board),
    Route("/offers/categories/{name}", offer_views.category_board),
    Route("/agreements/{public_id}", offer_views.agreement_page),
    # linked nodes (issue 5)
    Route("/network/blocks.json", network_views.blocks),
    Route("/network/{name}.json", network_views.network_page),
]
