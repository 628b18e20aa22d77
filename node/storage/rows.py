"""Row dataclasses and the converters from result rows to them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import sqlalchemy as sa

from activitypub import webfinger

_RowT = TypeVar("_RowT")


def utcnow() -> datetime:
    return datetime.now(UTC)


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; everything we store is UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _from_row(cls: type[_RowT], row: Any, *, booleans: tuple[str, ...] = ()) -> _RowT:
    """A result row as its dataclass: datetimes made UTC-aware (SQLite returns them naive),
    booleans made bool (SQLite returns 0/1)."""
    data = dict(row._mapping)
    for name, value in data.items():
        if isinstance(value, datetime):
            data[name] = _aware(value)
    for name in booleans:
        data[name] = bool(data[name])
    return cls(**data)


@dataclass(frozen=True)
class LocalActorRow:
    id: int
    username: str
    kind: str
    display_name: str
    summary: str
    is_admin: bool
    password_hash: str | None
    public_key_pem: str
    private_key_sealed: str
    created_at: datetime
    is_moderator: bool = False
    suspended_at: datetime | None = None
    deleted_at: datetime | None = None
    session_generation: int = 0
    ed25519_public: str | None = None  # FEP-521a multibase; None until the key is made
    ed25519_private_sealed: str | None = None
    bio: str = ""
    avatar_id: str | None = None
    email: str | None = None
    also_known_as: str = "[]"  # JSON list of actor ids (migration 0021)
    moved_to: str | None = None
    moved_at: datetime | None = None
    mail_kinds: str | None = None  # ",kind,kind," (None: the defaults)
    mail_digest_at: datetime | None = None
    language: str | None = None  # the web pages' language they chose (node/web/i18n.py)


@dataclass(frozen=True)
class RemoteActorRow:
    actor_id: str
    host: str
    type: str
    username: str
    name: str
    profile_url: str | None
    inbox_url: str
    shared_inbox_url: str | None
    key_id: str
    public_key_pem: str
    fetched_at: datetime
    id: int | None = None
    icon_url: str | None = None
    assertion_keys: str | None = None  # JSON {method id: multibase} (FEP-521a)

    @property
    def handle(self) -> str:
        """@name@host, with the port when their server has one (`host` leaves it out)."""
        return f"@{self.username}@{webfinger.host_of(self.actor_id) or self.host}"


def _remote_actor(row: Any) -> RemoteActorRow:
    return _from_row(RemoteActorRow, row)


@dataclass(frozen=True)
class FollowerRow:
    local_actor_id: int
    actor_id: str
    host: str
    inbox_url: str
    shared_inbox_url: str | None
    follow_id: str | None
    created_at: datetime
    id: int | None = None


def _follower(row: Any) -> FollowerRow:
    return _from_row(FollowerRow, row)


@dataclass(frozen=True)
class PostRow:
    public_id: str
    author_id: int
    kind: str
    title: str
    summary: str
    source: str
    content_html: str
    hashtags: str
    published_at: datetime
    updated_at: datetime | None = None
    deleted_at: datetime | None = None
    id: int | None = None
    comments_version: int = 0  # see schema.posts
    reply_policy: str = "anyone"  # anyone | followers | members
    quote_policy: str = "followers"  # anyone | followers | nobody
    mentions: str = "[]"  # JSON, see schema.posts
    language: str | None = None  # what it was written in ("de"); None: not known


def _post(row: Any) -> PostRow:
    return _from_row(PostRow, row)


@dataclass(frozen=True)
class NoteRow:
    object_id: str
    post_id: int | None
    in_reply_to: str
    author_id: str
    local_author_id: int | None
    host: str
    url: str | None
    content_html: str
    summary: str | None
    sensitive: bool
    public: bool
    status: str
    published_at: datetime
    created_at: datetime
    updated_at: datetime | None = None
    document: str | None = None
    id: int | None = None
    context: str | None = None  # FEP-7888: the conversation the note said it belongs to
    mentions: str = "[]"  # JSON: the local members it mentions (actor ids)
    language: str | None = None  # a remote reply's, when its contentMap names one


def _note(row: Any) -> NoteRow:
    return _from_row(NoteRow, row, booleans=("public", "sensitive"))


@dataclass(frozen=True)
class MediaRow:
    id: int
    public_id: str
    owner_id: int
    post_id: int | None
    media_type: str
    alt: str
    width: int
    height: int
    data: bytes
    created_at: datetime


def _media_row(row: Any) -> MediaRow:
    data = dict(row._mapping)
    data["created_at"] = _aware(data["created_at"])
    data["data"] = bytes(data["data"])
    return MediaRow(**data)


def _on_domain(column: sa.Column[str], domain: str | None) -> sa.ColumnElement[bool]:
    """The host is the domain or one of its subdomains."""
    return sa.or_(column == domain, column.like(f"%.{domain}"))


def _on_server(
    host_column: sa.Column[str], actor_column: sa.Column[str], domain: str | None
) -> sa.ColumnElement[bool]:
    """Rows from a blocked domain, or from the one server a `host:port` block names (host
    columns hold no port, so that server is known by its actors' ids)."""
    if domain is not None and ":" in domain:  # validated: letters, digits, - . and the port
        return actor_column.like(f"%://{domain}/%")
    return _on_domain(host_column, domain)


def _local_actor(row: Any) -> LocalActorRow:
    return _from_row(LocalActorRow, row, booleans=("is_admin", "is_moderator"))


# --- give and take rows (their queries are in Store's give-and-take section) -------------------


def _labelled(table: sa.Table, prefix: str) -> list[sa.Label[Any]]:
    """A table's columns named prefix+column, so a join keeps both tables' `id`s apart."""
    return [column.label(prefix + column.name) for column in table.columns]


def _unprefixed(row: Any, prefix: str) -> dict[str, Any]:
    data = dict(row._mapping)
    return {key.removeprefix(prefix): data[key] for key in data if key.startswith(prefix)}


@dataclass(frozen=True)
class OfferRow:
    id: int
    post_id: int
    category: str | None
    minutes: int | None
    place: str | None
    expires_at: datetime | None
    status: str
    closed_at: datetime | None


def _offer(row: Any, prefix: str = "") -> OfferRow:
    data = _unprefixed(row, prefix) if prefix else dict(row._mapping)
    for name in ("expires_at", "closed_at"):
        data[name] = _aware(data[name]) if data[name] else None
    return OfferRow(**data)


def _post_and_offer(row: Any) -> tuple[PostRow, OfferRow]:
    post = _post(_Mapped(_unprefixed(row, "post_")))
    return post, _offer(row, "offer_")


@dataclass(frozen=True)
class _Mapped:
    """A plain dict dressed as a result row, for the converters above that read `_mapping`."""

    _mapping: dict[str, Any]


@dataclass(frozen=True)
class ResponseRow:
    id: int
    offer_id: int
    note_id: int
    actor_id: str
    kind: str  # reply | agreement
    minutes: int | None
    created_at: datetime


def _response_and_note(row: Any) -> tuple[ResponseRow, NoteRow]:
    data = _unprefixed(row, "response_")
    data["created_at"] = _aware(data["created_at"])
    return ResponseRow(**data), _note(_Mapped(_unprefixed(row, "note_")))


@dataclass(frozen=True)
class AgreementRow:
    id: int
    object_id: str
    offer_id: int | None
    response_id: int | None
    proposal_id: str
    title: str
    proposer_id: str
    provider_id: str
    receiver_id: str
    minutes: int | None
    status: str
    completed_minutes: int | None
    completed_at: datetime | None
    created_at: datetime


def _agreement(row: Any) -> AgreementRow:
    return _from_row(AgreementRow, row)
