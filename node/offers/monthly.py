"""A member's hours by month, and the bars of the small chart /@name/hours draws of them
(server-rendered SVG: no script, nothing from elsewhere)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from .ledger import Entry

MONTHS = 12
CHART_WIDTH, CHART_HEIGHT, BAR_AREA = 480, 160, 130


@dataclass(frozen=True)
class Month:
    label: str  # "2026-03"
    given: int  # minutes
    received: int


@dataclass(frozen=True)
class Bar:
    x: int
    y: int
    height: int
    kind: str  # given | received
    title: str  # English; the page says it in its language from `month` and `minutes`
    month: str = ""  # "2026-03"
    minutes: int = 0


def _month_labels(now: datetime) -> list[str]:
    year, month = now.year, now.month
    labels = []
    for _ in range(MONTHS):
        labels.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return labels[::-1]


def by_month(entries: list[Entry], now: datetime) -> list[Month]:
    """The last twelve months, oldest first; minutes given (>0) and received (<0)."""
    given = dict.fromkeys(_month_labels(now), 0)
    received = dict(given)
    for entry in entries:
        label = entry.at.strftime("%Y-%m")
        if label in given:
            if entry.minutes > 0:
                given[label] += entry.minutes
            else:
                received[label] -= entry.minutes
    return [Month(label, given[label], received[label]) for label in given]


def bars(months: list[Month]) -> list[Bar]:
    """Two bars a month, scaled to the busiest month."""
    top = max([1, *(m.given for m in months), *(m.received for m in months)])
    slot = CHART_WIDTH // max(len(months), 1)
    drawn = []
    for index, month in enumerate(months):
        for offset, kind, minutes in ((4, "given", month.given), (18, "received", month.received)):
            height = round(BAR_AREA * minutes / top)
            title = f"{month.label}: {minutes / 60:g} hours {kind}"
            bar = Bar(index * slot + offset, BAR_AREA - height, height, kind, title)
            drawn.append(replace(bar, month=month.label, minutes=minutes))
    return drawn


def totals(points: list[tuple[datetime, int]], now: datetime) -> list[tuple[str, int]]:
    """(month, sum) for the last twelve months, oldest first: minutes exchanged on the whole
    node (the about page's picture)."""
    summed = dict.fromkeys(_month_labels(now), 0)
    for at, minutes in points:
        label = at.strftime("%Y-%m")
        if label in summed:
            summed[label] += minutes
    return list(summed.items())
