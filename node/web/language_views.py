"""Choosing the pages' language: the footer's switcher (plain links, no JavaScript: a cookie
for a year) and a member's own choice on /settings, which wins over the cookie
(node/web/i18n.py)."""

from __future__ import annotations

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from node.federation.actors import LocalActor

from . import i18n
from .guards import for_members_form, text_field
from .responses import error_page, node_of


def _local_path(target: str) -> str:
    """Where to go back to: a path on this site only (never `//elsewhere` or a URL)."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target[:2000]


async def switch(request: Request) -> Response:
    """`/language/{code}?next=/path`: show the pages in that language from now on."""
    code = request.path_params["code"]
    if code not in {language.code for language in i18n.available_languages()}:
        return error_page(request, 404, "The pages are not translated into that language.")
    response = RedirectResponse(_local_path(request.query_params.get("next", "/")), 303)
    secure = node_of(request).settings.url.startswith("https://")
    response.set_cookie(
        i18n.COOKIE, code, max_age=i18n.COOKIE_SECONDS, samesite="lax", secure=secure
    )
    return response


@for_members_form
async def save_language(request: Request, member: LocalActor, form: FormData) -> Response:
    """A member's language for the pages; "" leaves it to the switcher and the browser."""
    code = text_field(form, "language", 16)
    if code and code not in {language.code for language in i18n.available_languages()}:
        return error_page(request, 400, "Choose one of the languages offered.")
    await node_of(request).store.update_account(member.row.id, language=code or None)
    return RedirectResponse("/settings", status_code=303)
