"""Who may use an endpoint, and the CSRF check on every form that changes anything.

Endpoints are wrapped: `for_members`/`for_moderators` hand the signed-in member to the endpoint
(or send a visitor to sign in, or refuse a member without the right); the `*_form` variants first
check the form's CSRF token against the session (and the `Origin` header, when the browser sends
one) and hand over the parsed form. Permissions are read from the database on every request; the
cookie only says who signed in (and node/accounts/sessions.py empties a revoked one). Three roles:
members; moderators, who also reach the moderation pages; admins, who are moderators and also
manage accounts, invitations and the about page.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import quote, urlsplit

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from node.accounts import sessions
from node.content import uploads
from node.federation.actors import LocalActor, local_actor

from .i18n import N_
from .responses import error_page, node_of

Endpoint = Callable[[Request], Awaitable[Response]]
MemberEndpoint = Callable[[Request, LocalActor], Awaitable[Response]]
FormEndpoint = Callable[[Request, FormData], Awaitable[Response]]
MemberFormEndpoint = Callable[[Request, LocalActor, FormData], Awaitable[Response]]

MAX_FORM_BYTES = 12 * 1024 * 1024  # an image and a document (capped lower) plus the text
CSRF_FIELD = "csrf"
EXPIRED = N_("This form has expired or did not come from this site: go back, reload and try again.")


async def current_member(request: Request) -> LocalActor | None:
    seen = sessions.viewer(request)
    if seen is None:
        return None
    node = node_of(request)
    row = await node.store.local_actor_by_row_id(seen.member_id)
    if row is None or not sessions.still_valid(request.session, row):
        return None
    return local_actor(node.settings, row)


def is_moderator(member: LocalActor) -> bool:
    return member.row.is_admin or member.row.is_moderator


def is_admin(member: LocalActor) -> bool:
    return member.row.is_admin


Role = Callable[[LocalActor], bool]
_REFUSALS: dict[Role, str] = {
    is_moderator: N_("Only moderators may use this page."),
    is_admin: N_("Only the node's admins may use this page."),
}


def _sign_in_first(request: Request) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if request.method != "GET":
        target = "/"
    return RedirectResponse(f"/login?next={quote(target)}", status_code=303)


def _same_origin(request: Request) -> bool:
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return origin is None  # an opaque origin ("null") never posts our forms
    ours = urlsplit(node_of(request).settings.url)
    theirs = urlsplit(origin)
    return (theirs.scheme, theirs.netloc) == (ours.scheme, ours.netloc)


async def checked_form(request: Request) -> FormData | Response:
    """The submitted form, or the response refusing it (too big, foreign, no or wrong token)."""
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > MAX_FORM_BYTES:
        return error_page(request, 413, "That is too much to send at once.")
    if not _same_origin(request):
        return error_page(request, 403, EXPIRED)
    form = await request.form(max_files=4, max_fields=50)
    if not sessions.csrf_matches(request, form.get(CSRF_FIELD)):
        return error_page(request, 403, EXPIRED)
    return form


def public_form(endpoint: FormEndpoint) -> Endpoint:
    async def wrapped(request: Request) -> Response:
        form = await checked_form(request)
        return form if isinstance(form, Response) else await endpoint(request, form)

    return wrapped


def _with_member(endpoint: MemberEndpoint, role: Role | None) -> Endpoint:
    async def wrapped(request: Request) -> Response:
        member = await current_member(request)
        if member is None:
            return _sign_in_first(request)
        if role is not None and not role(member):
            return error_page(request, 403, _REFUSALS[role])
        return await endpoint(request, member)

    return wrapped


def for_members(endpoint: MemberEndpoint) -> Endpoint:
    return _with_member(endpoint, None)


def for_moderators(endpoint: MemberEndpoint) -> Endpoint:
    return _with_member(endpoint, is_moderator)


def for_admins(endpoint: MemberEndpoint) -> Endpoint:
    return _with_member(endpoint, is_admin)


def _with_form(endpoint: MemberFormEndpoint) -> MemberEndpoint:
    async def wrapped(request: Request, member: LocalActor) -> Response:
        form = await checked_form(request)
        return form if isinstance(form, Response) else await endpoint(request, member, form)

    return wrapped


def for_members_form(endpoint: MemberFormEndpoint) -> Endpoint:
    return for_members(_with_form(endpoint))


def for_moderators_form(endpoint: MemberFormEndpoint) -> Endpoint:
    return for_moderators(_with_form(endpoint))


def for_admins_form(endpoint: MemberFormEndpoint) -> Endpoint:
    return for_admins(_with_form(endpoint))


async def image_field(form: FormData, name: str) -> bytes | None:
    """An uploaded picture's bytes (one past the size cap at most, so a file too large is
    refused as such by node/content/uploads.py), or None when none was chosen."""
    upload = form.get(name)
    if upload is None or isinstance(upload, str) or not upload.filename:
        return None
    return await upload.read(uploads.MAX_IMAGE_BYTES + 1)


def text_field(form: FormData, name: str, limit: int = 100_000) -> str:
    value = form.get(name)
    return value[:limit] if isinstance(value, str) else ""
