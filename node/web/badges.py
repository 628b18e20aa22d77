"""The embeddable badge: a small SVG (and the static HTML snippet beside it) saying the
community's name, its follow handle and how many offers are open. Nothing in it runs, links
out, loads anything or identifies who looks at it; the SVG is built as XML with every text
escaped, so a community name can never become markup."""

from __future__ import annotations

import base64
from xml.sax.saxutils import escape, quoteattr

HEIGHT = 20
CHAR_WIDTH = 6.5  # about right for 11 px sans-serif text; the badge only needs to fit
PADDING = 8
LEFT_FILL = "#1d1d1f"
RIGHT_FILL = "#0b57a4"  # both pass WCAG AA (4.5:1) with white text
DEFAULT = (RIGHT_FILL, "#fff")  # without a community colour


def offers_label(count: int) -> str:
    return f"{count} open offer" if count == 1 else f"{count} open offers"


def _width(text: str) -> int:
    return int(len(text) * CHAR_WIDTH) + 2 * PADDING


def svg(
    name: str,
    handle: str,
    open_offers: int,
    accent: tuple[str, str] = DEFAULT,
    logo_jpeg: bytes | None = None,
) -> str:
    """`accent`: the community's colour and the text colour that reads on it
    (node/content/identity.py); `logo_jpeg`: its logo, drawn at the left as a data: URL (an
    SVG shown as an image loads nothing else)."""
    left, right = name, f"{handle} · {offers_label(open_offers)}"
    logo = HEIGHT if logo_jpeg else 0
    left_width, right_width = _width(left) + logo, _width(right)
    total = left_width + right_width
    title = f"{name}: follow {handle} · {offers_label(open_offers)}"
    fill, ink = accent
    picture = (
        f'<image width="{HEIGHT}" height="{HEIGHT}" '
        f'href="data:image/jpeg;base64,{base64.b64encode(logo_jpeg).decode()}"/>'
        if logo_jpeg
        else ""
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{total}" height="{HEIGHT}"'
        f' viewBox="0 0 {total} {HEIGHT}" role="img" aria-label={quoteattr(title)}>'
        f"<title>{escape(title)}</title>"
        f'<rect width="{left_width}" height="{HEIGHT}" fill="{LEFT_FILL}"/>{picture}'
        f'<rect x="{left_width}" width="{right_width}" height="{HEIGHT}" fill="{fill}"/>'
        '<g font-family="Verdana,DejaVu Sans,sans-serif" font-size="11">'
        f'<text x="{logo + PADDING}" y="14" fill="#fff">{escape(left)}</text>'
        f'<text x="{left_width + PADDING}" y="14" fill="{ink}">{escape(right)}</text>'
        "</g></svg>"
    )


def image_snippet(base_url: str, name: str, handle: str, open_offers: int) -> str:
    alt = f"{name}: follow {handle} · {offers_label(open_offers)}"
    return (
        f'<a href="{base_url}/"><img src="{base_url}/badge.svg" alt={quoteattr(alt)}'
        f' height="{HEIGHT}"></a>'
    )


def text_snippet(base_url: str, name: str, handle: str, open_offers: int) -> str:
    return (
        f'<a href="{base_url}/">{escape(name)} · follow {escape(handle)}'
        f" · {offers_label(open_offers)}</a>"
    )
