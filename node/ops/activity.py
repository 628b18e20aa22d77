"""Deliveries and inbound activities in each hour of the last day, and the bars of the chart the
admin dashboard draws of them (server-rendered SVG: no script, nothing from elsewhere)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from node.storage import Store

HOURS = 24
CHART_WIDTH, CHART_HEIGHT, BAR_AREA = 576, 160, 130
KINDS = (("delivery", "deliveries"), ("inbound", "inbound activities"))


@dataclass(frozen=True)
class Hour:
    label: str  # "2026-12-03 09" (UTC)
    deliveries: int
    inbound: int


@dataclass(frozen=True)
class Bar:
    x: int
    y: int
    height: int
    kind: str  # delivery | inbound
    title: str


def _labels(now: datetime) -> list[str]:
    start = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=HOURS - 1)
    return [(start + timedelta(hours=i)).strftime("%Y-%m-%d %H") for i in range(HOURS)]


async def last_day(store: Store, now: datetime) -> list[Hour]:
    """The last 24 hours, oldest first (the current hour last)."""
    labels = _labels(now)
    counts = await store.hourly_activity(
        datetime.strptime(labels[0], "%Y-%m-%d %H").replace(tzinfo=now.tzinfo)
    )
    return [
        Hour(label, counts.get((label, "delivery"), 0), counts.get((label, "inbound"), 0))
        for label in labels
    ]


def bars(hours: list[Hour]) -> list[Bar]:
    """Two bars an hour, scaled to the busiest hour."""
    top = max([1, *(h.deliveries for h in hours), *(h.inbound for h in hours)])
    slot = CHART_WIDTH // max(len(hours), 1)
    drawn = []
    for index, hour in enumerate(hours):
        for offset, (kind, words) in zip((3, 12), KINDS, strict=True):
            count = hour.deliveries if kind == "delivery" else hour.inbound
            height = round(BAR_AREA * count / top)
            title = f"{hour.label}:00 UTC: {count} {words}"
            drawn.append(Bar(index * slot + offset, BAR_AREA - height, height, kind, title))
    return drawn
