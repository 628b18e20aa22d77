"""Which notifications a member wants by mail (the settings page, `local_actors.mail_kinds`).

Kept as ",kind,kind," so the mail queue can match a kind in SQL; NULL means the defaults:
responses and agreements at once and, for moderators, the hourly digest; everything else off.
Moderators' kinds (a comment waiting,
a report) are never mailed one by one: they go out as an hourly digest (mail.py beside this)."""

from __future__ import annotations

from collections.abc import Iterable

from node.storage import LocalActorRow

# Mailed as they happen, when chosen.
AT_ONCE = ("response", "match", "agreement", "reply", "mention", "hours", "follower")
# Moderators': gathered into at most one mail an hour.
DIGEST = ("comment_waiting", "report")
ADMIN = ("link_request",)
DEFAULTS = ("response", "match", "agreement")
# A moderator who chose nothing still hears of waiting comments and reports, as Mastodon mails
# its moderators about new reports unless they opt out; only moderators get these kinds at all.
DIGEST_DEFAULTS = DIGEST
KINDS = AT_ONCE + DIGEST + ADMIN


def chosen(mail_kinds: str | None) -> frozenset[str]:
    if mail_kinds is None:
        return frozenset(DEFAULTS + DIGEST_DEFAULTS)
    return frozenset(kind for kind in mail_kinds.split(",") if kind in KINDS)


def offered(row: LocalActorRow) -> tuple[str, ...]:
    """The kinds this member can be told of at all (moderators' and admins' only to them)."""
    kinds: tuple[str, ...] = AT_ONCE
    if row.is_moderator or row.is_admin:
        kinds += DIGEST
    if row.is_admin:
        kinds += ADMIN
    return kinds


def stored(row: LocalActorRow, kinds: Iterable[str]) -> str:
    """The column's value for these choices; kinds this member cannot get are left out."""
    allowed = offered(row)
    return "," + "".join(f"{kind}," for kind in allowed if kind in set(kinds))
