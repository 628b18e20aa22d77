"""Response helpers shared by the endpoints: content negotiation, JSON types, templates."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from activitypub.vocab import ACTIVITY_JSON, Document, wants_activity_json
from node.accounts import sessions
from node.content import identity
from node.context import Node
from node.wording import WordedError

from . import i18n

TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "templates"
STATIC_DIR = Path(__file__).resolve().parents[2] / "static"

_environment = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
    autoescape=jinja2.select_autoescape(default=True),
    undefined=jinja2.StrictUndefined,
    # Templates ship with the code and change only with a restart; checking every template's
    # file time on every render cost ~1% of a page view.
    auto_reload=False,
)

i18n.install(_environment)
# Pages differ by what is asked for (HTML or ActivityStreams JSON) and the language
# (Accept-Language; the session middleware adds Cookie where the session is read). A page
# answered in the language of the switcher's cookie says it depends on the cookie too.
PAGE_VARY = "Accept, Accept-Language"


def warm() -> None:
    """Compile every template and every language's messages now, in this process, rather than
    in the first request that needs each: a post everyone fetches right after a restart would
    otherwise keep all of them waiting for the compiler (bench/stampede.py, its p99)."""
    for name in _environment.list_templates():
        _environment.get_template(name)
    for code in i18n.available_languages():
        i18n.translations(code.code)


def node_of(request: Request) -> Node:
    node: Node = request.app.state.node
    return node


def wants_json(request: Request) -> bool:
    return wants_activity_json(request.headers.get("accept", ""))


def activity_response(document: Document, status_code: int = 200) -> Response:
    return Response(
        json.dumps(document, ensure_ascii=False),
        status_code=status_code,
        media_type=ACTIVITY_JSON,
        headers={"Vary": "Accept"},
    )


def json_response(
    document: Any,
    media_type: str = "application/json",
    headers: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    return Response(
        json.dumps(document, ensure_ascii=False), status, media_type=media_type, headers=headers
    )


def render_fragment(request: Request, template: str, **context: Any) -> str:
    """A template as markup, with what every page's templates can use (viewer, csrf_token…)."""
    node = node_of(request)
    site = identity.current(node)
    return _environment.get_template(template).render(
        node_name=site.name,
        site=site,
        base_url=node.settings.url,
        viewer=sessions.viewer(request),
        csrf_token=lambda: sessions.csrf_token(request),  # only pages with forms set a cookie
        **i18n.template_context(request),
        **context,
    )


# What views hand a page to say (English messages marked with N_, or a domain's error):
# shown in the page's language when the catalogue has them.
TRANSLATED = ("error", "notice", "answer")


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    for key in TRANSLATED:
        if isinstance(context.get(key), WordedError):
            context[key] = i18n.said(request, context[key])
        elif isinstance(context.get(key), str) and context[key]:
            context[key] = i18n.translate(request, context[key])
    html = render_fragment(request, template, **context)
    vary = PAGE_VARY + (", Cookie" if i18n.COOKIE in request.cookies else "")
    headers = {"Vary": vary, "Content-Language": i18n.language_of(request)}
    return HTMLResponse(html, status_code=status_code, headers=headers)


def error_page(request: Request, status_code: int, message: str | WordedError) -> Response:
    """The message (English, in the catalogue: extraction reads this call's literals; or a
    domain's refusal) as JSON for programs, or as a page in the request's language."""
    if wants_json(request):
        return Response(
            json.dumps({"error": str(message)}),
            status_code=status_code,
            media_type="application/json",
            headers={"Vary": "Accept"},
        )
    if isinstance(message, WordedError):
        message = i18n.said(request, message)
    else:
        message = i18n.translate(request, message)
    return render(request, "error.html", status_code=status_code, message=message)
