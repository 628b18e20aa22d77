"""Colours an admin chooses, made safe to read: a `#rrggbb` checked and normalised, WCAG 2
contrast worked out, the text colour that reads best on it, and a shade of it that reads as
link text on the light and the dark page (darkened or lightened until it reaches 4.5:1)."""

from __future__ import annotations

import re

HEX = re.compile(r"^#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")
WHITE, BLACK = "#ffffff", "#000000"
# static/site.css: the lightest background links sit on in the dark scheme (--bg-soft) and the
# darkest in the light one (--bg-soft): a link that reads there reads on every surface.
LIGHT_PAGE, DARK_PAGE = "#f2f2f5", "#24242a"
READABLE = 4.5  # WCAG AA for body text


class ColourError(ValueError):
    """Not a colour we can use; the message says what to give instead."""


def checked_hex(value: str) -> str:
    """`#abc`, `abc`, `#AABBCC` → `#aabbcc`; anything else is refused."""
    match = HEX.match(value.strip())
    if match is None:
        raise ColourError(f"{value[:20]!r} is not a colour: give one like #0b57a4")
    digits = match.group(1).lower()
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    return f"#{digits}"


def _channels(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def _linear(channel: int) -> float:
    c = channel / 255
    return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4


def luminance(colour: str) -> float:
    r, g, b = (_linear(c) for c in _channels(colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    """WCAG 2 contrast ratio, from 1 (the same) to 21 (black on white)."""
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def text_on(background: str) -> str:
    """White or black, whichever reads better on `background` (never under 4.58:1)."""
    return WHITE if contrast(background, WHITE) >= contrast(background, BLACK) else BLACK


def _mixed(colour: str, toward: str, share: float) -> str:
    pairs = zip(_channels(colour), _channels(toward), strict=True)
    return "#" + "".join(f"{round(c + (t - c) * share):02x}" for c, t in pairs)


def readable_on(colour: str, page: str) -> str:
    """`colour`, or the nearest shade of it toward black or white (whichever is away from
    `page`) that reads as text on `page` at 4.5:1."""
    toward = BLACK if luminance(page) > 0.5 else WHITE
    for step in range(21):
        shade = _mixed(colour, toward, step / 20)
        if contrast(shade, page) >= READABLE:
            return shade
    return toward
