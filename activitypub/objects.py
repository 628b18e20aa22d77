"""Builders that return ActivityStreams documents (plain dicts) for what we publish."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from .keys import PublicKey
from .vocab import AS_CONTEXT, SECURITY_CONTEXT, Document

ActorType = Literal["Person", "Group", "Application"]

# Extension terms we use on actors; Mastodon reads them by these compact names.
ACTOR_CONTEXT: list[Any] = [
    AS_CONTEXT,
    SECURITY_CONTEXT,
    {
        "manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
        "toot": "http://joinmastodon.org/ns#",
        "featured": {"@id": "toot:featured", "@type": "@id"},
        "discoverable": "toot:discoverable",
        "indexable": "toot:indexable",
    },
]


def isoformat(moment: datetime) -> str:
    """xsd:dateTime in UTC with a Z, as every fediverse server writes it."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class ActorInfo:
    actor_id: str
    type: ActorType
    username: str
    name: str
    summary: str
    profile_url: str
    shared_inbox_url: str
    public_key: PublicKey
    published: datetime
    manually_approves_followers: bool = False
    discoverable: bool = True
    icon_url: str | None = None


def actor(info: ActorInfo) -> Document:
    """An actor document; its collections live under its id."""
    base = info.actor_id
    document: Document = {
        "@context": ACTOR_CONTEXT,
        "id": base,
        "type": info.type,
        "preferredUsername": info.username,
        "name": info.name,
        "summary": info.summary,
        "url": info.profile_url,
        "inbox": f"{base}/inbox",
        "outbox": f"{base}/outbox",
        "followers": f"{base}/followers",
        "following": f"{base}/following",
        "featured": f"{base}/featured",
        "endpoints": {"sharedInbox": info.shared_inbox_url},
        "publicKey": {
            "id": info.public_key.key_id,
            "owner": info.public_key.owner,
            "publicKeyPem": info.public_key.pem,
        },
        "manuallyApprovesFollowers": info.manually_approves_followers,
        "discoverable": info.discoverable,
        "indexable": info.discoverable,
        "published": isoformat(info.published),
    }
    if info.icon_url:
        document["icon"] = {"type": "Image", "url": info.icon_url}
    return document


def ordered_collection(
    collection_id: str, total: int, first_page_id: str | None = None
) -> Document:
    """A collection summary; `first` is omitted when the collection is empty."""
    document: Document = {
        "@context": AS_CONTEXT,
        "id": collection_id,
        "type": "OrderedCollection",
        "totalItems": total,
    }
    if first_page_id is not None and total > 0:
        document["first"] = first_page_id
    return document


def ordered_collection_page(
    page_id: str, part_of: str, items: list[Any], next_page_id: str | None = None
) -> Document:
    document: Document = {
        "@context": AS_CONTEXT,
        "id": page_id,
        "type": "OrderedCollectionPage",
        "partOf": part_of,
        "orderedItems": items,
    }
    if next_page_id is not None:
        document["next"] = next_page_id
    return document
