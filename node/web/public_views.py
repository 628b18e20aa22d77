"""Public pages beyond posts and profiles: the about page, uploaded images, pictures of people
(remote ones as the worker fetched them, members' uploads, or a placeholder), feeds, the
embeddable badge, and the "reply/follow from your own server" hand-off."""

from __future__ import annotations

from datetime import timedelta

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from node.content import avatars, documents, feeds, identity
from node.context import Node
from node.federation import interaction
from node.federation.actors import (
    AVATAR_MEDIA_TYPE,
    AVATAR_SMALL,
    LocalActor,
    local_actor,
    local_actor_by_row_id,
)
from node.storage import LocalActorRow, PostRow, utcnow

from . import badges, i18n, pictures
from .responses import error_page, node_of, render

DEFAULT_ABOUT = (
    "<p>This community has not written its rules and terms yet. Be kind; moderators remove "
    "comments that attack people.</p>"
)


async def about(request: Request) -> Response:
    """The rules and terms, then the community in figures: members, posts, open offers and
    requests, and a picture of the hours exchanged by month."""
    store = node_of(request).store
    page = await store.site_page("about")
    content = page["content_html"] if page else DEFAULT_ABOUT
    now = utcnow()
    exchanged = await store.hours_given_since(now - timedelta(days=366))
    figures = {
        "members": await store.count_local_actors("Person"),
        "posts": await store.count_posts(),
        "open_offers": await store.count_open_offers(),
    }
    chart = pictures.hours_by_month(exchanged, now, i18n.language_of(request))
    return render(request, "about.html", content=content, figures=figures, hours_chart=chart)


async def media(request: Request) -> Response:
    item = await node_of(request).store.media(request.path_params["public_id"])
    if item is None:
        return error_page(request, 404, "No such image.")
    headers = {
        "Cache-Control": "public, max-age=31536000, immutable",
        "X-Content-Type-Options": "nosniff",
        "Content-Disposition": "inline",
    }
    if documents.is_document(item):
        headers["Content-Disposition"] = documents.content_disposition(item)
        headers["Content-Security-Policy"] = "sandbox; default-src 'none'"  # if opened anyway
    return Response(item.data, media_type=item.media_type, headers=headers)


async def interact(request: Request) -> Response:
    """GET /interact?uri=…&account=@you@server[&intent=Follow]: off to the visitor's server."""
    node = node_of(request)
    uri = request.query_params.get("uri", "")
    intent: interaction.Intent = (
        "Follow" if request.query_params.get("intent") == "Follow" else "Object"
    )
    if not uri.startswith(node.settings.url + "/"):
        return error_page(request, 400, "That address is not on this node.")
    account = request.query_params.get("account", "")
    try:
        target = await interaction.interaction_url(node, account, intent, uri)
    except interaction.InteractionError as exc:
        return render(
            request, "interact.html", 400, error=str(exc), uri=uri, intent=intent, account=account
        )
    return RedirectResponse(target, status_code=303)


async def _feed_posts(
    request: Request, member: LocalActor | None
) -> list[tuple[PostRow, LocalActor | None]]:
    node = node_of(request)
    if member is not None:
        posts = await node.store.posts_by(member.row.id, limit=feeds.FEED_SIZE)
        return [(post, member) for post in posts]
    recent = await node.store.recent_posts(feeds.FEED_SIZE)
    return [
        (p, await local_actor_by_row_id(node.store, node.settings, p.author_id)) for p in recent
    ]


async def offers_feed(request: Request) -> Response:
    """/offers/feed.atom, /offers/feed.rss: open offers and requests, newest first."""
    node = node_of(request)
    kind = request.path_params["format"]
    if kind not in feeds.MEDIA_TYPES:
        return error_page(request, 404, "Feeds are feed.atom and feed.rss.")
    listing = await node.store.offers_listing(
        kind=None, category=None, state="open", limit=feeds.FEED_SIZE
    )
    authors = await node.store.local_actors_by_row_id([post.author_id for post, _ in listing])
    posts = [(post, _member(node, authors.get(post.author_id))) for post, _ in listing]
    title = f"Offers and requests · {identity.current(node).name}"
    info = feeds.FeedInfo(
        title, node.settings.url + "/offers", node.settings.url + request.url.path, title
    )
    return Response(feeds.render_feed(node, info, posts, kind), media_type=feeds.MEDIA_TYPES[kind])


def _member(node: Node, row: LocalActorRow | None) -> LocalActor | None:
    return local_actor(node.settings, row) if row is not None else None


async def feed(request: Request) -> Response:
    """/feed.atom, /feed.rss, /@name/feed.atom, /@name/feed.rss"""
    node = node_of(request)
    kind = request.path_params["format"]
    if kind not in feeds.MEDIA_TYPES:
        return error_page(request, 404, "Feeds are feed.atom and feed.rss.")
    member = None
    name = identity.current(node).name
    title, page_url = name, node.settings.url + "/"
    if "username" in request.path_params:
        row = await node.store.local_actor(request.path_params["username"].lower())
        if row is None or row.kind != "Person":
            return error_page(request, 404, "No member by that name here.")
        member = local_actor(node.settings, row)
        title, page_url = f"{row.display_name} · {name}", member.profile_url
    info = feeds.FeedInfo(
        title, page_url, node.settings.url + request.url.path, f"Posts on {title}"
    )
    body = feeds.render_feed(node, info, await _feed_posts(request, member), kind)
    return Response(body, media_type=feeds.MEDIA_TYPES[kind])


async def _badge_terms(request: Request) -> tuple[str, str, int]:
    node = node_of(request)
    handle = f"@{node.settings.group_handle}@{node.settings.host}"
    return identity.current(node).name, handle, await node.store.count_open_offers()


async def badge_svg(request: Request) -> Response:
    """Served without a session (node/accounts/sessions.py), so no cookie goes with it anywhere.
    In the community's colour, with its logo when it has one."""
    node = node_of(request)
    look = identity.current(node)
    accent = (look.palette.accent, look.palette.on_accent) if look.palette else badges.DEFAULT
    logo = await node.store.media(look.logo_url.removeprefix("/media/")) if look.logo_url else None
    svg = badges.svg(*await _badge_terms(request), accent, logo.data if logo else None)
    headers = {
        "Cache-Control": "public, max-age=600",
        "Cross-Origin-Resource-Policy": "cross-origin",  # other sites embed it
        "Content-Security-Policy": "default-src 'none'; img-src data:",  # the logo, inline
    }
    return Response(svg, media_type="image/svg+xml", headers=headers)


async def badge_page(request: Request) -> Response:
    terms = await _badge_terms(request)
    base = node_of(request).settings.url
    return render(
        request,
        "badge.html",
        image_snippet=badges.image_snippet(base, *terms),
        text_snippet=badges.text_snippet(base, *terms),
    )


# --- pictures of people, always from our origin (node/content/avatars.py) ---

AVATAR_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'",
}


def _picture(data: bytes, max_age: int) -> Response:
    headers = {**AVATAR_HEADERS, "Cache-Control": f"public, max-age={max_age}"}
    return Response(data, media_type=AVATAR_MEDIA_TYPE, headers=headers)


def _placeholder(key: str) -> Response:
    # Short-lived: the real picture may arrive with the worker's next pass.
    headers = {**AVATAR_HEADERS, "Cache-Control": "public, max-age=600"}
    return Response(avatars.identicon(key), media_type="image/svg+xml", headers=headers)


async def remote_avatar(request: Request) -> Response:
    key = request.path_params["key"]
    if len(key) != 32 or not all(c in "0123456789abcdef" for c in key):
        return error_page(request, 404, "No such picture.")
    row = await node_of(request).store.remote_avatar(key)
    data = row.get("data") if row else None
    return (
        _picture(bytes(data), 86400) if isinstance(data, bytes | memoryview) else _placeholder(key)
    )


async def member_avatar(request: Request) -> Response:
    node = node_of(request)
    row = await node.store.local_actor(request.path_params["username"].lower())
    if row is None:
        return error_page(request, 404, "No member by that name here.")
    media = await node.store.media(f"{row.avatar_id}-{AVATAR_SMALL}") if row.avatar_id else None
    if media is not None and row.deleted_at is None:
        return _picture(media.data, 300)
    return _placeholder(avatars.avatar_key(local_actor(node.settings, row).actor_id))
