"""Whole public responses kept per process for anonymous visitors and other servers
(node/cache/pages.py says when they are good), with `ETag`, `If-None-Match` (304) and a
`Cache-Control` a proxy in front may honour: it may keep the response but must ask again
(`no-cache`), and a 304 costs us one version check.

`kept(endpoint)` wraps an endpoint: a GET from someone not signed in is answered from what this
process kept for the current content version, or rendered and kept. A signed-in member's
request always reaches the endpoint and is marked `private, no-store`. `html=False` keeps only
the ActivityPub JSON (an actor's HTML profile is rendered fresh each time).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import Response

from node.accounts import sessions
from node.cache import views as visits
from node.cache.pages import KeptResponse, Rendering, etag_of, matches
from node.context import flush_views

from . import i18n, responses
from .responses import node_of, wants_json

Endpoint = Callable[[Request], Awaitable[Response]]
PUBLIC = "public, no-cache"
# Authorized fetch: object JSON goes only to signed requests, so no shared proxy may keep it.
SIGNED_ONLY = "private, no-cache"
PRIVATE = "private, no-store"
VARY = "Accept"  # and Cookie, added by the session middleware where a session is read
VIEWED_POST = "conode_viewed_post"  # request.state: the post row a page counts a view for
_DROPPED = frozenset({"content-length", "set-cookie", "etag", "cache-control", "vary"})


def count_view_of(request: Request, post_row_id: int, shown: int) -> None:
    """A post's page tells the cache which post a kept copy counts a view for, and the count
    it shows (in `<span class="views">`, templates/post.html)."""
    counted = node_of(request).views.counted(post_row_id)
    setattr(request.state, VIEWED_POST, (post_row_id, shown, counted))


def kept(endpoint: Endpoint, *, html: bool = True) -> Endpoint:
    async def respond(request: Request) -> Response:
        as_json = wants_json(request)
        if request.method != "GET" or not (as_json or html):
            return await endpoint(request)
        # ActivityPub JSON is the same for a signed-in member; reading the session for it
        # would only add `Vary: Cookie` to documents every server shares
        if not as_json and sessions.viewer(request) is not None:
            response = await endpoint(request)
            response.headers["Cache-Control"] = PRIVATE
            return response
        node = node_of(request)
        version = await node.versions.current()
        # a page also changes with its language and with the community's look (its name is in
        # the Group actor's JSON too), neither of which moves the content version
        language = "" if as_json else i18n.language_of(request)
        look = str(hash(node.look.last()))
        key = ("json" if as_json else "html", request.url.path, request.url.query, language, look)
        entry = node.pages.get(key, version)
        if entry is None:
            rendering, first = node.pages.rendering(key, version)
            if first:
                return await _render(request, endpoint, key, version, rendering)
            # Another request is rendering it: this one gets the copy of the version before,
            # if there is one, or waits for that render.
            entry = node.pages.earlier(key) or await asyncio.shield(rendering)
            if entry is None:  # it could not be kept: render for this request
                return await endpoint(request)
        body, etag = entry.body, entry.etag
        if entry.post_row_id is not None:
            if visits.counts_as_view(request):
                node.views.add(entry.post_row_id)
            body, etag = _with_views(request, node.views.counted(entry.post_row_id), entry)
        background = BackgroundTask(flush_views, node) if node.views.due() else None
        return _answer(request, entry, background, body, etag)

    respond.__name__ = getattr(endpoint, "__name__", "kept")
    respond.__doc__ = endpoint.__doc__
    return respond


async def _render(
    request: Request, endpoint: Endpoint, key: tuple[str, ...], version: int, rendering: Rendering
) -> Response:
    """Render, keep what may be kept, and hand it to the requests waiting for it."""
    pages = node_of(request).pages
    try:
        response = await endpoint(request)
    except BaseException:
        pages.rendered(key, rendering, None)
        raise
    if response.status_code != 200 or _session_written(request):
        pages.rendered(key, rendering, None)
        return response
    entry = _keep(request, response, version)
    pages.rendered(key, rendering, entry)
    return _answer(request, entry, response.background, entry.body, entry.etag)


def _session_written(request: Request) -> bool:
    """Rendering wrote to the session (a CSRF token): the page is this visitor's alone."""
    return bool(getattr(request.scope.get("session"), "modified", False))


def _keep(request: Request, response: Response, version: int) -> KeptResponse:
    body = bytes(response.body)
    headers = tuple(
        (name, value) for name, value in response.headers.items() if name not in _DROPPED
    )
    post_row_id, shown, counted = getattr(request.state, VIEWED_POST, (None, 0, 0))
    return KeptResponse(
        version=version,
        body=body,
        status_code=response.status_code,
        headers=headers,
        etag=etag_of(body),
        kept_at=node_of(request).pages.now(),
        post_row_id=post_row_id,
        views_shown=shown,
        views_counted=counted,
    )


def _with_views(request: Request, counted: int, entry: KeptResponse) -> tuple[bytes, str]:
    """The kept page with its view count brought up to date (and so its ETag)."""
    if counted == entry.views_counted:
        return entry.body, entry.etag
    views = entry.views_shown + counted - entry.views_counted
    old = f'<span class="views">{_views_text(request, entry.views_shown)}</span>'
    new = f'<span class="views">{_views_text(request, views)}</span>'
    body = entry.body.replace(old.encode(), new.encode(), 1)
    return body, etag_of(body)


def _views_text(request: Request, views: int) -> str:
    """As templates/post.html words it, in the page's language."""
    return i18n.translate_plural(request, "%(num)d view", "%(num)d views", views) % {"num": views}


def _answer(
    request: Request,
    entry: KeptResponse,
    background: BackgroundTask | None,
    body: bytes,
    etag: str,
) -> Response:
    secure = node_of(request).settings.authorized_fetch and wants_json(request)
    vary = VARY
    if not wants_json(request):  # as an HTML page says, for its language (responses.render)
        vary = responses.PAGE_VARY + (", Cookie" if i18n.COOKIE in request.cookies else "")
    caching = {"ETag": etag, "Cache-Control": SIGNED_ONLY if secure else PUBLIC, "Vary": vary}
    if matches(request.headers.get("if-none-match", ""), etag):
        return Response(status_code=304, headers=caching, background=background)
    response = Response(body, status_code=entry.status_code, background=background)
    for name, value in entry.headers:
        response.headers[name] = value
    response.headers.update(caching)
    return response
