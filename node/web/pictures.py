"""Pictures where people would rather look than read, worked out here and drawn as SVG by the
templates (no script, nothing from elsewhere, colours from the stylesheet so they follow the
light and dark scheme): the linked nodes on the network page, open offers and requests by
category on the offers board, and hours exchanged by month on the about page. Each carries
its text equivalent (`words`), read out instead of the drawing, in the page's language (the
`code` each is given: node/web/i18n.py)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from node.offers import monthly

from .i18n import LABELS, N_, hours_in, translations

# --- the network: this node in the middle, the nodes it is linked with around it ---

MAP_WIDTH, MAP_HEIGHT = 520, 260
LABEL_CHARS = 16


@dataclass(frozen=True)
class Dot:
    x: int
    y: int
    r: int
    label: str
    here: bool
    reachable: bool
    anchor: str  # where its label sits: start | middle | end
    label_x: int
    label_y: int


@dataclass(frozen=True)
class NetworkMap:
    dots: list[Dot]
    edges: list[tuple[int, int, int, int]]
    words: str
    width: int = MAP_WIDTH
    height: int = MAP_HEIGHT


def _short(text: str) -> str:
    return text if len(text) <= LABEL_CHARS else text[: LABEL_CHARS - 1] + "…"


def _radius(members: Any) -> int:
    return 10 + min(14, int(math.sqrt(members))) if isinstance(members, int) else 10


def _status(code: str, status: str) -> str:
    message = LABELS.get(status)
    return translations(code).gettext(message) if message else status


def network_map(nodes: list[dict[str, Any]], code: str) -> NetworkMap:
    """`nodes`: as the network page lists them (node/web/network_views.py), this node first;
    `code`: the page's language."""
    words_in = translations(code)
    here, linked = nodes[0], nodes[1:]
    cx, cy = MAP_WIDTH // 2, MAP_HEIGHT // 2
    dots = [Dot(cx, cy, _radius(here["members"]) + 6, _short(here["name"]), True, True,
                "middle", cx, cy + _radius(here["members"]) + 24)]  # fmt: skip
    edges = []
    for index, node in enumerate(linked):
        angle = -math.pi / 2 + 2 * math.pi * index / max(len(linked), 1)
        x, y = round(cx + 110 * math.cos(angle)), round(cy + 90 * math.sin(angle))
        r = _radius(node["members"])
        anchor = "middle" if abs(x - cx) < 40 else "start" if x > cx else "end"
        label_x = x if anchor == "middle" else x + (r + 6 if anchor == "start" else -r - 6)
        label_y = y + (
            r + 16 if anchor == "middle" and y >= cy else -r - 6 if anchor == "middle" else 5
        )
        reachable = node["status"] != "unreachable"
        dots.append(Dot(x, y, r, _short(node["name"]), False, reachable, anchor, label_x, label_y))
        edges.append((cx, cy, x, y))
    if linked:
        names = ", ".join(f"{node['name']} ({_status(code, node['status'])})" for node in linked)
        words = words_in.ngettext(
            "%(name)s is linked with %(count)d node: %(names)s.",
            "%(name)s is linked with %(count)d nodes: %(names)s.",
            len(linked),
        ) % {"name": here["name"], "count": len(linked), "names": names}
    else:
        words = words_in.gettext("%(name)s is not linked with other nodes yet.") % {
            "name": here["name"]
        }
    return NetworkMap(dots, edges, words)


# --- open offers and requests by category ---

ROW, LABEL_WIDTH, BAR_WIDTH = 30, 110, 220


@dataclass(frozen=True)
class CategoryRow:
    label: str
    y: int
    offers: int
    requests: int
    offers_width: int
    requests_width: int


@dataclass(frozen=True)
class CategoryChart:
    rows: list[CategoryRow]
    words: str
    width: int
    height: int
    label_width: int = LABEL_WIDTH


def categories(
    counts: list[tuple[str | None, str, int]], names: list[str], code: str
) -> CategoryChart:
    """`counts`: (category, kind, how many) of what is open; `names`: the node's categories,
    in their order (a category nobody uses shows as an empty row; "other" for none); `code`:
    the page's language."""
    words_in = translations(code)
    other = words_in.gettext(N_("other"))
    by_name: dict[str, dict[str, int]] = {name.lower(): {} for name in names}
    labels = {name.lower(): name for name in names}
    for category, kind, number in counts:
        key = (category or "other").lower()
        labels.setdefault(key, category or other)
        by_name.setdefault(key, {})[kind] = by_name.get(key, {}).get(kind, 0) + number
    top = max([1, *(sum(kinds.values()) for kinds in by_name.values())])
    rows, spoken = [], []
    for index, (key, kinds) in enumerate(by_name.items()):
        offers, requests = kinds.get("offer", 0), kinds.get("request", 0)
        rows.append(CategoryRow(labels[key], index * ROW, offers, requests,
                                round(BAR_WIDTH * offers / top),
                                round(BAR_WIDTH * requests / top)))  # fmt: skip
        if offers or requests:
            offered = words_in.ngettext("%(count)d offer", "%(count)d offers", offers)
            asked = words_in.ngettext("%(count)d request", "%(count)d requests", requests)
            spoken.append(
                f"{labels[key]}: {offered % {'count': offers}}, {asked % {'count': requests}}"
            )
    words = (
        words_in.gettext("Open offers and requests by category.")
        + " "
        + ("; ".join(spoken) + "." if spoken else words_in.gettext("None are open."))
    )
    return CategoryChart(rows, words, LABEL_WIDTH + BAR_WIDTH + 50, len(rows) * ROW + 4)


# --- hours exchanged by month ---

MONTH_SLOT, MONTH_AREA = 34, 120


@dataclass(frozen=True)
class MonthBar:
    x: int
    y: int
    height: int
    label: str  # "03"
    title: str


@dataclass(frozen=True)
class MonthChart:
    bars: list[MonthBar]
    words: str
    total: str
    width: int = MONTH_SLOT * monthly.MONTHS
    height: int = MONTH_AREA + 40


def hours_by_month(points: list[tuple[datetime, int]], now: datetime, code: str) -> MonthChart:
    """`code`: the page's language."""

    def hours_label(minutes: int) -> str:
        return hours_in(code, minutes)

    months = monthly.totals(points, now)
    top = max([1, *(minutes for _, minutes in months)])
    bars = []
    for index, (label, minutes) in enumerate(months):
        height = round(MONTH_AREA * minutes / top)
        title = f"{label}: {hours_label(minutes)}"
        bars.append(MonthBar(index * MONTH_SLOT + 5, MONTH_AREA - height + 10, height,
                             label[5:], title))  # fmt: skip
    busy = [f"{label} {hours_label(minutes)}" for label, minutes in months if minutes]
    total = sum(minutes for _, minutes in months)
    words = translations(code).gettext(
        "Hours exchanged in the last %(months)d months: %(hours)s"
    ) % {"months": monthly.MONTHS, "hours": hours_label(total)}
    words += f" ({', '.join(busy)})." if busy else "."
    return MonthChart(bars, words, hours_label(total))
