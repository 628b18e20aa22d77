"""ActivityStreams 2.0 constants and small readers for documents received from the network."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

Document = dict[str, Any]

AS_CONTEXT = "https://www.w3.org/ns/activitystreams"
SECURITY_CONTEXT = "https://w3id.org/security/v1"

PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
# Public addressing arrives in three spellings (compacted JSON-LD drops the prefix).
PUBLIC_ALIASES = frozenset({PUBLIC, "as:Public", "Public"})

ACTIVITY_JSON = "application/activity+json"
LD_JSON = "application/ld+json"
AS_PROFILE = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
JRD_JSON = "application/jrd+json"

NODEINFO_21_REL = "http://nodeinfo.diaspora.software/ns/schema/2.1"
NODEINFO_21_PROFILE = "http://nodeinfo.diaspora.software/ns/schema/2.1#"
APPLICATION_REL = "https://www.w3.org/ns/activitystreams#Application"
PROFILE_PAGE_REL = "http://webfinger.net/rel/profile-page"
SUBSCRIBE_REL = "http://ostatus.org/schema/1.0/subscribe"


def wants_activity_json(accept: str) -> bool:
    """True when an Accept header asks for ActivityStreams JSON rather than HTML."""
    for part in accept.split(","):
        media_type = part.split(";", 1)[0].strip().lower()
        if media_type in (ACTIVITY_JSON, LD_JSON):
            return True
    return False


def is_activity_content_type(content_type: str) -> bool:
    """True for the media types an inbox accepts."""
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type in (ACTIVITY_JSON, LD_JSON)


def as_list(value: Any) -> list[Any]:
    """`to`, `cc`, `tag`… may be absent, a single value or a list."""
    if value is None:
        return []
    if isinstance(value, list):
        return value
    return [value]


def id_of(value: Any) -> str | None:
    """The id of a reference that may be a string, a Link or an embedded object."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        ref = value.get("id") or value.get("href")
        return ref if isinstance(ref, str) else None
    return None


def first_id(value: Any) -> str | None:
    """The first usable id of `attributedTo`, `inReplyTo`… (a string, a list, Links, objects)."""
    for item in as_list(value):
        ref = id_of(item)
        if ref:
            return ref
    return None


def published_at(document: Document) -> datetime | None:
    """`published` as an aware datetime; None when absent or not ISO 8601."""
    value = document.get("published")
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def is_public(document: Document) -> bool:
    """True when a document is addressed to the public collection in `to` or `cc`."""
    audience = as_list(document.get("to")) + as_list(document.get("cc"))
    return any(id_of(item) in PUBLIC_ALIASES for item in audience)


def type_of(document: Any) -> str | None:
    """A document's type; JSON-LD allows a list (["Note", "Extension"]): the first string wins."""
    if not isinstance(document, dict):
        return None
    for value in as_list(document.get("type")):
        if isinstance(value, str):
            return value
    return None
