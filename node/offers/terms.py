"""What an offer or request may say: hours, category, place and expiry, checked the same way
whether they come from the command line or from another server, and how hours are written.

Hours are counted in quarter hours and stored as whole minutes, so a ledger of them adds up
exactly; every quantity that leaves the node is an exact decimal string ("1.5").
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation

from node.settings import Settings
from node.wording import WordedError

KINDS = ("offer", "request")
STATUSES = ("open", "taken", "fulfilled", "withdrawn", "expired")
# One offer, or one completed exchange, of more than this is a typo or abuse, not a timebank.
MAX_HOURS = Decimal(100)
QUARTER_HOUR = 15  # minutes
MAX_PLACE = 200
MAX_EXPIRY = timedelta(days=366)


class OfferError(WordedError):
    """Give-and-take input that cannot be used; the message says what to change."""


def parse_hours(text: str | float | int) -> int:
    """Hours as written (text or a JSON number) → minutes; raises OfferError in words that
    suit a form and a command line alike."""
    try:
        value = Decimal(str(text).strip())
    except InvalidOperation:
        raise OfferError(
            "The hours ({text!r}) must be a number of hours, e.g. 2 or 1.5", text=text
        ) from None
    if not value.is_finite() or value <= 0:
        raise OfferError("The hours ({text!r}) must be more than 0", text=text)
    if value > MAX_HOURS:
        raise OfferError(
            "The hours ({text!r}) can be at most {most} at a time", text=text, most=MAX_HOURS
        )
    minutes = value * 60
    if minutes % QUARTER_HOUR != 0:
        raise OfferError(
            "The hours ({text!r}) count in quarter hours, e.g. 1, 1.5 or 0.25", text=text
        )
    return int(minutes)


def hours_text(minutes: int) -> str:
    """Exact decimal hours: 120 → "2", 90 → "1.5", -15 → "-0.25"."""
    value = Decimal(minutes) / 60
    return f"{value.normalize():f}"


def hours_number(minutes: int) -> float:
    return float(Decimal(minutes) / 60)  # quarter hours are exact in binary


def hours_label(minutes: int) -> str:
    text = hours_text(minutes)
    return f"{text} hour" if text == "1" else f"{text} hours"


def check_category(settings: Settings, name: str | None) -> str | None:
    """The category as configured (case-insensitive match); None when not given."""
    if name is None or not name.strip():
        return None
    for known in settings.offer_categories:
        if known.lower() == name.strip().lower():
            return known
    choices = ", ".join(settings.offer_categories)
    raise OfferError("unknown category {name!r}: use one of {choices}", name=name, choices=choices)


def category_slug(name: str) -> str:
    return name.lower()


def check_place(text: str | None) -> str | None:
    place = " ".join((text or "").split())
    if len(place) > MAX_PLACE:
        raise OfferError(
            "The place is {length} characters; keep it under {most}",
            length=len(place),
            most=MAX_PLACE,
        )
    return place or None


def parse_expiry(text: str | None, now: datetime) -> datetime | None:
    """`2025-06-30` (the end of that day, UTC) or an ISO date-time; in the future, within a year."""
    if text is None or not text.strip():
        return None
    raw = text.strip()
    try:
        if len(raw) == 10:
            moment = datetime.combine(date.fromisoformat(raw), time(23, 59, 59), tzinfo=UTC)
        else:
            moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise OfferError(
            "The end date ({text!r}) is not a date like 2025-06-30", text=text
        ) from None
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    if moment <= now:
        raise OfferError("The end date ({text!r}) is in the past", text=text)
    if moment - now > MAX_EXPIRY:
        raise OfferError("The end date ({text!r}) is more than a year away", text=text)
    return moment.astimezone(UTC)
