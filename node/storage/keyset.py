"""Keyset pagination: a list is read from the position of its last row shown, never by
offset, so new posts arriving while someone reads page three do not push rows from one page to
the next (and the query stays an index range however deep the page).

A position is the ordering key of a row: its time and row id, or its row id alone. Pages go
forward (further down the list) from the last row shown, or backward from the first.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, TypeVar

import sqlalchemy as sa

T = TypeVar("T")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_TOKEN = re.compile(r"(?:(\d{1,18})\.)?(\d{1,18})")


@dataclass(frozen=True)
class Cursor:
    """Where a row sits in its list: (moment, row id), or row id alone for lists by id."""

    row_id: int
    moment: datetime | None = None

    def token(self) -> str:
        if self.moment is None:
            return str(self.row_id)
        micros = (self.moment.astimezone(UTC) - _EPOCH) // timedelta(microseconds=1)
        return f"{micros}.{self.row_id}"

    @classmethod
    def parse(cls, token: str) -> Cursor | None:
        """The cursor a page link carries; None when it is not one of ours."""
        match = _TOKEN.fullmatch(token)
        if match is None:
            return None
        micros, row_id = match.groups()
        moment = _EPOCH + timedelta(microseconds=int(micros)) if micros is not None else None
        return cls(int(row_id), moment)


@dataclass(frozen=True)
class Window:
    """Which page to read: the first, or the one after (`backward`: before) a position."""

    size: int
    cursor: Cursor | None = None
    backward: bool = False


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next: Cursor | None  # where the following page starts, None on the last
    prev: Cursor | None  # where the page before ends, None on the first


def _beyond(
    moment_column: Any, id_column: Any, cursor: Cursor, descending: bool
) -> sa.ColumnElement[bool]:
    def past(column: Any, value: Any) -> sa.ColumnElement[bool]:
        beyond: sa.ColumnElement[bool] = column < value if descending else column > value
        return beyond

    if moment_column is None or cursor.moment is None:
        return past(id_column, cursor.row_id)
    moment = cursor.moment
    return sa.or_(
        past(moment_column, moment),
        sa.and_(moment_column == moment, past(id_column, cursor.row_id)),
    )


def windowed(
    query: sa.Select[Any],
    window: Window,
    *,
    id_column: Any,
    moment_column: Any = None,
    descending: bool = True,
) -> sa.Select[Any]:
    """The query limited to the window: ordered by (moment, id) in list order, one row more
    than the page holds (to know whether another follows)."""
    sql_descending = descending != window.backward
    if window.cursor is not None:
        query = query.where(_beyond(moment_column, id_column, window.cursor, sql_descending))
    columns = [c for c in (moment_column, id_column) if c is not None]
    order = [c.desc() if sql_descending else c.asc() for c in columns]
    return query.order_by(*order).limit(window.size + 1)


def paged(rows: list[T], window: Window, position: Callable[[T], Cursor]) -> Page[T]:
    """The rows a windowed() query returned, as a page in list order with its neighbours."""
    more = len(rows) > window.size
    items = rows[: window.size]
    if window.backward:
        items.reverse()
        prev = position(items[0]) if more and items else None
        following = position(items[-1]) if items else window.cursor
        return Page(items, following, prev)
    following = position(items[-1]) if more and items else None
    prev = position(items[0]) if window.cursor is not None and items else None
    return Page(items, following, prev)


def by_moment(moment: datetime, row_id: int | None) -> Cursor:
    return Cursor(row_id or 0, moment)


def by_id(row_id: int | None) -> Cursor:
    return Cursor(row_id or 0)
