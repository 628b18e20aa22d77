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
from node.offers.terms import hours_label

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


def counted(number: int, word: str) -> str:
    """ "1 like", "2 likes": a count with its noun, as English reads."""
    return f"{number} {word}" if number == 1 else f"{number} {word}s"


_environment.filters["counted"] = counted
_environment.filters["hours"] = hours_label  # minutes as "1 hour", "1.5 hours"


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
        **context,
    )


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    html = render_fragment(request, template, **context)
    return HTMLResponse(html, status_code=status_code, headers={"Vary": "Accept"})


def error_page(request: Request, status_code: int, message: str) -> Response:
    if wants_json(request):
        return Response(
            json.dumps({"error": message}),
            status_code=status_code,
            media_type="application/json",
            headers={"Vary": "Accept"},
        )
    return render(request, "error.html", status_code=status_code, message=message)
