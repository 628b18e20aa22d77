"""Page links for every list: the position a link carries (`?after=` for the page that
follows, `?before=` for the one before, node/storage/keyset.py) and the `rel="next"` and
`rel="prev"` URLs a page shows, with the list's other filters kept."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from node.storage import Cursor, Page, Window

from .responses import error_page

PAGE_SIZE = 20
TOKEN_CHARS = 40


class BadPageLink(Exception):
    """A page link whose position is not one we make (edited, truncated or forged)."""


@dataclass(frozen=True)
class PageLinks:
    next_url: str | None
    prev_url: str | None


def window(request: Request, size: int = PAGE_SIZE, prefix: str = "") -> Window:
    """The page the request asks for; raises BadPageLink for a position we did not make."""
    query = request.query_params
    for name, backward in ((f"{prefix}after", False), (f"{prefix}before", True)):
        token = query.get(name)
        if token is None:
            continue
        cursor = Cursor.parse(token[:TOKEN_CHARS])
        if cursor is None or len(token) > TOKEN_CHARS:
            raise BadPageLink(token)
        return Window(size, cursor, backward)
    return Window(size)


def _url(request: Request, prefix: str, name: str, cursor: Cursor) -> str:
    url = request.url.remove_query_params([f"{prefix}after", f"{prefix}before"])
    url = url.include_query_params(**{f"{prefix}{name}": cursor.token()})
    return f"{url.path}?{url.query}"


def links(request: Request, page: Page[Any], prefix: str = "") -> PageLinks:
    """The URLs of the pages after and before this one (None where there is none)."""
    return PageLinks(
        _url(request, prefix, "after", page.next) if page.next else None,
        _url(request, prefix, "before", page.prev) if page.prev else None,
    )


async def bad_page_link(request: Request, exc: Exception) -> Response:
    return error_page(
        request, 400, "That page link is not one this site made; start again from the list."
    )
