"""Builders that return ActivityStreams documents (plain dicts) for what we publish."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from .keys import PublicKey
from .vocab import AS_CONTEXT, PUBLIC, SECURITY_CONTEXT, Document

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
        # Moving (Mastodon's terms): the accounts this one also is, and where it moved
        "alsoKnownAs": {"@id": "as:alsoKnownAs", "@type": "@id"},
        "movedTo": {"@id": "as:movedTo", "@type": "@id"},
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
    icon_media_type: str | None = None
    also_known_as: tuple[str, ...] = ()
    moved_to: str | None = None


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
        if info.icon_media_type:
            document["icon"]["mediaType"] = info.icon_media_type
    if info.also_known_as:
        document["alsoKnownAs"] = list(info.also_known_as)
    if info.moved_to:
        document["movedTo"] = info.moved_to
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


# --- objects and activities --------------------------------------------------------------------

OBJECT_CONTEXT: list[Any] = [
    AS_CONTEXT,
    {"Hashtag": "as:Hashtag", "sensitive": "as:sensitive"},
]


@dataclass(frozen=True)
class Addressing:
    to: list[str]
    cc: list[str]


def public_addressing(followers_id: str, *extra_cc: str) -> Addressing:
    """`to: Public, cc: followers`: what Mastodon shows as a public post."""
    return Addressing(to=[PUBLIC], cc=[followers_id, *extra_cc])


def hashtag(name: str, href: str) -> Document:
    return {"type": "Hashtag", "name": f"#{name}", "href": href}


def mention(actor_id: str, handle: str) -> Document:
    return {"type": "Mention", "href": actor_id, "name": handle}


@dataclass(frozen=True)
class ArticleInfo:
    object_id: str
    attributed_to: str
    name: str
    summary: str
    content: str
    url: str
    published: datetime
    addressing: Addressing
    tags: list[Document]
    replies_id: str
    updated: datetime | None = None
    audience: str | None = None
    attachments: tuple[Document, ...] = ()
    language: str | None = None  # what it was written in: contentMap, nameMap, summaryMap


def article(info: ArticleInfo) -> Document:
    """A report or blog post. Mastodon shows `name`, `summary` and a link to `url`, not
    `content` (app/lib/activitypub/parser/status_parser.rb), so the summary must stand alone."""
    document: Document = {
        "@context": OBJECT_CONTEXT,
        "id": info.object_id,
        "type": "Article",
        "attributedTo": info.attributed_to,
        "name": info.name,
        "summary": info.summary,
        "content": info.content,
        "mediaType": "text/html",
        "url": info.url,
        "published": isoformat(info.published),
        "to": info.addressing.to,
        "cc": info.addressing.cc,
        "tag": info.tags,
        "replies": info.replies_id,
    }
    if info.updated is not None:
        document["updated"] = isoformat(info.updated)
    if info.audience:
        document["audience"] = info.audience
    if info.attachments:
        document["attachment"] = list(info.attachments)
    return language_maps(document, info.language)


@dataclass(frozen=True)
class NoteInfo:
    object_id: str
    attributed_to: str
    content: str
    published: datetime
    addressing: Addressing
    in_reply_to: str | None = None
    tags: list[Document] | None = None
    url: str | None = None
    updated: datetime | None = None
    language: str | None = None  # what it was written in: contentMap


def language_maps(document: Document, language: str | None) -> Document:
    """`contentMap` (and `nameMap`, `summaryMap` where `name`, `summary` are given) beside the
    plain properties, as Mastodon and GoToSocial send them: {"de": "…"}."""
    if not language:
        return document
    for key in ("content", "name", "summary"):
        if isinstance(document.get(key), str) and document[key]:
            document[f"{key}Map"] = {language: document[key]}
    return document


_LANGUAGE_TAG = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8}){0,3}")


def written_language(document: Document) -> str | None:
    """The language an incoming object says its content is in: the one key of its
    `contentMap` when there is exactly one and it looks like a language tag ("de", "pt-BR"),
    else None (none given, several, or something that is not a tag)."""
    content_map = document.get("contentMap")
    if not isinstance(content_map, dict) or len(content_map) != 1:
        return None
    (tag,) = content_map
    if not isinstance(tag, str) or len(tag) > 16 or not _LANGUAGE_TAG.fullmatch(tag):
        return None
    return tag


def note(info: NoteInfo) -> Document:
    document: Document = {
        "@context": OBJECT_CONTEXT,
        "id": info.object_id,
        "type": "Note",
        "attributedTo": info.attributed_to,
        "content": info.content,
        "published": isoformat(info.published),
        "to": info.addressing.to,
        "cc": info.addressing.cc,
        "inReplyTo": info.in_reply_to,
        "tag": info.tags or [],
        "url": info.url or info.object_id,
        "sensitive": False,
    }
    if info.updated is not None:
        document["updated"] = isoformat(info.updated)
    return language_maps(document, info.language)


def _activity(
    type_: str, activity_id: str, actor_id: str, obj: Any, addressing: Addressing | None
) -> Document:
    document: Document = {
        "@context": AS_CONTEXT,
        "id": activity_id,
        "type": type_,
        "actor": actor_id,
        "object": obj,
    }
    if addressing is not None:
        document["to"] = addressing.to
        document["cc"] = addressing.cc
    return document


def create(activity_id: str, obj: Document) -> Document:
    """Wrap an object; the activity inherits its author, addressing and context."""
    document = _activity(
        "Create",
        activity_id,
        obj["attributedTo"],
        {k: v for k, v in obj.items() if k != "@context"},
        Addressing(obj["to"], obj["cc"]),
    )
    document["@context"] = obj["@context"]
    document["published"] = obj["published"]
    return document


def update(activity_id: str, obj: Document) -> Document:
    document = create(activity_id, obj)
    document["type"] = "Update"
    document.pop("published", None)
    return document


def update_actor(activity_id: str, actor_document: Document) -> Document:
    """`Update` of an actor by itself (a changed name, summary or icon), addressed publicly to
    its followers, as Mastodon sends it."""
    document = _activity(
        "Update",
        activity_id,
        actor_document["id"],
        {k: v for k, v in actor_document.items() if k != "@context"},
        public_addressing(actor_document["followers"]),
    )
    document["@context"] = actor_document["@context"]
    return document


def delete(activity_id: str, actor_id: str, object_id: str, addressing: Addressing) -> Document:
    tombstone = {"id": object_id, "type": "Tombstone"}
    return _activity("Delete", activity_id, actor_id, tombstone, addressing)


def tombstone(object_id: str, deleted: datetime, former_type: str) -> Document:
    return {
        "@context": AS_CONTEXT,
        "id": object_id,
        "type": "Tombstone",
        "formerType": former_type,
        "deleted": isoformat(deleted),
    }


def announce(activity_id: str, actor_id: str, object_id: str, addressing: Addressing) -> Document:
    """A plain Announce of an object id: Mastodon shows it as a boost (it cannot read an
    Announce wrapping a Create; Lemmy sends the plain form for the same reason)."""
    return _activity("Announce", activity_id, actor_id, object_id, addressing)


def move(activity_id: str, actor_id: str, target_id: str) -> Document:
    """Mastodon's `Move`: the account (actor = object) moved to `target`, told to followers."""
    document = _activity("Move", activity_id, actor_id, actor_id, None)
    document["target"] = target_id
    return document


def follow(activity_id: str, actor_id: str, object_id: str) -> Document:
    return _activity("Follow", activity_id, actor_id, object_id, None)


def _reference(obj: Document) -> Document:
    """An activity embedded in our answer, as the reference Mastodon expects: without its
    `@context` and so without its FEP-8b32 `proof`, which covered the context too."""
    return {k: v for k, v in obj.items() if k not in ("@context", "proof")}


def accept(activity_id: str, actor_id: str, obj: Document) -> Document:
    """Accept a Follow, embedding it with its id, as Mastodon expects."""
    embedded = _reference(obj)
    return _activity("Accept", activity_id, actor_id, embedded, None)


def reject(activity_id: str, actor_id: str, obj: Document) -> Document:
    """Reject (or end) a Follow, embedding it with its id, as Mastodon expects."""
    embedded = _reference(obj)
    return _activity("Reject", activity_id, actor_id, embedded, None)


def undo(activity_id: str, actor_id: str, obj: Document) -> Document:
    embedded = _reference(obj)
    return _activity("Undo", activity_id, actor_id, embedded, None)


def collection(collection_id: str, total: int, first: Document | None) -> Document:
    document: Document = {
        "@context": AS_CONTEXT,
        "id": collection_id,
        "type": "Collection",
        "totalItems": total,
    }
    if first is not None:
        document["first"] = first
    return document


def collection_page(
    page_id: str, part_of: str, items: list[Any], next_page_id: str | None
) -> Document:
    document: Document = {
        "id": page_id,
        "type": "CollectionPage",
        "partOf": part_of,
        "items": items,
    }
    if next_page_id is not None:
        document["next"] = next_page_id
    return document
