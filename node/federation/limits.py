"""Caps on what a document from the network may contain, checked before anything is fetched,
verified or stored: nesting depth, string lengths, recipients, tags and attachments.

An activity over a cap is refused whole (the inbox answers 400 with the cap in the reason), never
trimmed: trimming would store something its author did not send and its signature did not cover.
The caps sit far above what Mastodon, Pleroma, Misskey, GoToSocial or the WordPress plugin send
(Mastodon addresses `to: [Public], cc: [followers, …mentions]`; a post carries at most a few dozen
tags and, on Pixelfed, 20 attachments), so only floods and garbage reach them. They also keep
every value inside the database's columns, so bad input is a clear 4xx and never a 500:
ids fit `String(2048)`, hosts a DNS name, a stored `type` `String(32)`; no NUL character (which
PostgreSQL text refuses) and no lone surrogate (which no encoder can write) gets through.
Fetched documents (actors, keys, ancestors) are held to the same caps.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

MAX_DEPTH = 32  # Mastodon's documents nest 5-6 deep
MAX_STRING_CHARS = 300_000  # content over MAX_CONTENT_CHARS (100,000) is cut when stored
MAX_ID_CHARS = 2048  # node/storage/schema.py URL columns
MAX_HOST_CHARS = 253  # the longest DNS name
MAX_TYPE_CHARS = 32  # node/storage/schema.py inbound.type and remote_posts.type
MAX_RECIPIENTS = 1000  # to + cc + bto + bcc + audience of one activity or object
MAX_TAGS = 200
MAX_ATTACHMENTS = 40
MAX_LIST_ITEMS = 1000  # any other list
MAX_PAGE = 100_000  # collection pages: an offset past this is no page anyone needs

RECIPIENT_FIELDS = ("to", "cc", "bto", "bcc", "audience")
ID_FIELDS = frozenset({"id", "actor", "attributedTo", "inReplyTo", "object", "href", "target"})
LIST_CAPS = {"tag": MAX_TAGS, "attachment": MAX_ATTACHMENTS}


class LimitError(ValueError):
    """A document over a cap; `reason` names the cap and goes to the activity log."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def check_text(value: str, limit: int = MAX_STRING_CHARS, what: str = "string") -> None:
    if len(value) > limit:
        raise LimitError(f"{what} longer than {limit} characters")
    if "\x00" in value:
        raise LimitError(f"{what} holds a NUL character")
    if value.isascii():  # a flag CPython keeps on every string: no surrogate, no encoding
        return
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise LimitError(f"{what} holds a lone surrogate") from None


def _check_object(document: dict[str, Any]) -> None:
    recipients = 0
    for name in RECIPIENT_FIELDS:
        value = document.get(name)
        recipients += len(value) if isinstance(value, list) else value is not None
    if recipients > MAX_RECIPIENTS:
        raise LimitError(f"too many recipients ({recipients} > {MAX_RECIPIENTS})")
    for name, cap in LIST_CAPS.items():
        value = document.get(name)
        if isinstance(value, list) and len(value) > cap:
            raise LimitError(f"too many {name} entries ({len(value)} > {cap})")
    for name in ID_FIELDS:
        value = document.get(name)
        if isinstance(value, str):
            check_text(value, MAX_ID_CHARS, f"{name}")
    kind = document.get("type")
    if isinstance(kind, str):
        check_text(kind, MAX_TYPE_CHARS * 2, "type")


def check_document(document: Any) -> None:
    """Raise LimitError when any part of a parsed JSON document is over a cap.

    Iterative, so a deep document cannot exhaust the interpreter's stack while being checked.
    """
    stack: list[tuple[Any, int]] = [(document, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str):
            check_text(value)
        elif isinstance(value, dict | list):
            if depth > MAX_DEPTH:
                raise LimitError(f"nested deeper than {MAX_DEPTH} levels")
            if isinstance(value, dict):
                _check_object(value)
                for key in value:
                    check_text(key, MAX_ID_CHARS, "key")
                stack.extend((item, depth + 1) for item in value.values())
            else:
                if len(value) > MAX_LIST_ITEMS:
                    raise LimitError(f"list longer than {MAX_LIST_ITEMS} items")
                stack.extend((item, depth + 1) for item in value)


def check_activity(activity: dict[str, Any]) -> None:
    """check_document, plus what the inbox stores as columns: the type and the hosts."""
    check_document(activity)
    kind = activity.get("type")
    if isinstance(kind, str) and len(kind) > MAX_TYPE_CHARS:
        raise LimitError(f"type longer than {MAX_TYPE_CHARS} characters")
    for name in ("id", "actor"):
        value = activity.get(name)
        ref = value.get("id") if isinstance(value, dict) else value
        if isinstance(ref, str) and len(_host(ref, name)) > MAX_HOST_CHARS:
            raise LimitError(f"{name} host longer than {MAX_HOST_CHARS} characters")


def _host(url: str, name: str) -> str:
    try:
        return urlsplit(url).hostname or ""
    except ValueError:  # "http://[::1" and other broken authorities
        raise LimitError(f"{name} is not a valid URL") from None


def page_number(raw: str | None) -> int | None:
    """A collection's ?page=N as a number the database can take; None when absent or not one
    (page=99999999999999999999 overflowed SQLite's and PostgreSQL's integers: a 500)."""
    if not raw or not raw.isdecimal() or len(raw) > len(str(MAX_PAGE)):
        return None
    page = int(raw)
    return page if 0 < page <= MAX_PAGE else None
