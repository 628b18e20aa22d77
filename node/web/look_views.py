"""The community's look on the web: keeping this process's copy fresh before each request (so
rendering a page reads no database), the accent colour as a stylesheet of our own origin
(the CSP allows no inline style), and the admin's form on the about page."""

from __future__ import annotations

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from node.content import identity
from node.federation.actors import LocalActor

from .guards import for_admins_form, image_field, text_field
from .responses import node_of, render

THEME_CACHE = "public, max-age=31536000, immutable"  # linked with its version (?v=)


class SiteLook:
    """ASGI middleware: read the look again when this process's copy is older than a moment
    (node/cache/look.py)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # pages are what show the look: an inbox POST or a form's answer reads no database for
        # it (a form answered with a page uses the copy at most a moment old)
        if scope["type"] == "http" and scope["method"] in ("GET", "HEAD"):
            await identity.refresh(scope["app"].state.node)
        await self.app(scope, receive, send)


async def theme_css(request: Request) -> Response:
    node = node_of(request)
    versioned = "v" in request.query_params
    headers = {"Cache-Control": THEME_CACHE if versioned else "public, max-age=60"}
    return Response(
        identity.theme_css(identity.current(node)), media_type="text/css", headers=headers
    )


@for_admins_form
async def save_look(request: Request, member: LocalActor, form: FormData) -> Response:
    wanted = identity.SiteChange(
        name=text_field(form, "name", identity.MAX_NAME + 1),
        accent=text_field(form, "accent", 20) if form.get("use_accent") == "1" else "",
        logo=await image_field(form, "logo"),
        remove_logo=form.get("no_logo") == "1",
        header=await image_field(form, "header"),
        remove_header=form.get("no_header") == "1",
    )
    node = node_of(request)
    try:
        await identity.change(node, wanted, member.row.id)
    except identity.IdentityError as exc:
        page = await node.store.site_page("about")
        return render(
            request,
            "about_edit.html",
            400,
            source=page["source"] if page else "",
            preview="",
            section="about",
            look_error=str(exc),
        )
    return RedirectResponse("/about/edit?done=look", status_code=303)
