"""Members' posts (reports, blog posts): render, store, and federate Create/Update/Delete to
followers, with the group actor announcing each post to the group's followers (FEP-1b12)."""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal

from activitypub import interaction, objects
from activitypub.vocab import Document
from node.context import Node
from node.federation import delivery, integrity
from node.federation.actors import LocalActor, local_actor, local_actor_by_row_id, moved_notice
from node.settings import interface_languages
from node.storage import MediaRow, PostRow, utcnow
from node.wording import WordedError

from . import html, interaction_policy, mentions, uploads
from .autolink import Links

PostKind = Literal["blog", "report", "offer", "request"]
ARTICLE_KINDS = ("blog", "report")
MAX_TITLE = 200
MAX_SUMMARY = 500


class PublishError(WordedError):
    """A post that cannot be published as asked; the message says what to change."""


def post_id(node: Node, post: PostRow) -> str:
    return f"{node.settings.url}/posts/{post.public_id}"


def tag_url(node: Node, name: str) -> str:
    return f"{node.settings.url}/tags/{name.lower()}"


async def group_actor(node: Node) -> LocalActor | None:
    row = await node.store.local_actor(node.settings.group_handle)
    return local_actor(node.settings, row) if row and row.kind == "Group" else None


async def author_of(node: Node, post: PostRow) -> LocalActor:
    author = await local_actor_by_row_id(node.store, node.settings, post.author_id)
    if author is None:
        raise PublishError(f"post {post.public_id} has no author")
    return author


def mentioned_ids(post: PostRow) -> list[str]:
    return [str(m["href"]) for m in json.loads(post.mentions)]


async def tell_mentioned(node: Node, post: PostRow, author: LocalActor) -> None:
    """Our members the post mentions are told (once each, however often it is edited)."""
    path = f"/posts/{post.public_id}"
    await mentions.tell_mentioned(
        node, mentioned_ids(post), path, author.actor_id, author=author.row.id
    )


def post_tags(node: Node, post: PostRow) -> list[Document]:
    """The post's `Hashtag` and `Mention` tags (offers' Notes carry the same)."""
    tags = [objects.hashtag(name, tag_url(node, name)) for name in json.loads(post.hashtags)]
    return tags + [objects.mention(m["href"], m["name"]) for m in json.loads(post.mentions)]


def article_document(
    node: Node,
    post: PostRow,
    author: LocalActor,
    group_id: str | None,
    media: Sequence[MediaRow] = (),
) -> Document:
    object_id = post_id(node, post)
    tags = post_tags(node, post)
    document = objects.article(
        objects.ArticleInfo(
            object_id=object_id,
            attributed_to=author.actor_id,
            name=post.title,
            summary=post.summary,
            content=post.content_html,
            url=object_id,
            published=post.published_at,
            updated=post.updated_at,
            addressing=objects.public_addressing(
                f"{author.actor_id}/followers", *mentioned_ids(post)
            ),
            tags=tags,
            replies_id=f"{object_id}/replies",
            audience=group_id,
            attachments=tuple(uploads.attachment(node.settings, item) for item in media),
            language=post.language,
        )
    )
    document["@context"] = [*document["@context"], interaction.TERMS]
    document["interactionPolicy"] = interaction_policy.policy_document(post, author)
    document["context"] = f"{object_id}/context"  # FEP-7888 (node/content/conversations.py)
    return document


async def published_document(node: Node, post: PostRow, author: LocalActor) -> Document:
    """The Article as served and federated: with its group audience and image attachments."""
    group = await group_actor(node)
    media = await node.store.media_of_post(post.id or 0)
    return article_document(node, post, author, group.actor_id if group else None, media)


async def _audience_inboxes(node: Node, author: LocalActor, group: LocalActor | None) -> list[str]:
    ids = [author.row.id] + ([group.row.id] if group else [])
    return await node.store.follower_inboxes(ids)


async def _mentioned_inboxes(node: Node, activity: Document) -> list[str]:
    """The inboxes of the other servers' accounts the post mentions (so they are told)."""
    obj = activity.get("object")
    tags = obj.get("tag", []) if isinstance(obj, dict) else []
    ids = [t["href"] for t in tags if t.get("type") == "Mention"]
    remote = [i for i in ids if not i.startswith(node.settings.url + "/")]
    rows = await node.store.remote_actors_by_id(remote) if remote else {}
    return [row.shared_inbox_url or row.inbox_url for row in rows.values()]


async def _fan_out(node: Node, author: LocalActor, activity: Document, *, announce: bool) -> None:
    """A Create goes to the author's followers and the group announces it to its own; updates
    and deletes come from the author (only they may speak for the object) but must reach
    everyone who saw the post, the group's followers included."""
    group = await group_actor(node)
    mentioned = await _mentioned_inboxes(node, activity)
    if not announce:
        everyone = await _audience_inboxes(node, author, group) + mentioned
        await delivery.enqueue(
            node.store, activity=activity, sender=author.username, inbox_urls=everyone
        )
        return
    author_inboxes = await node.store.follower_inboxes([author.row.id]) + mentioned
    await delivery.enqueue(
        node.store, activity=activity, sender=author.username, inbox_urls=author_inboxes
    )
    if group is not None:
        object_id = activity["object"]["id"]
        boost = objects.announce(
            f"{object_id}/announce",
            group.actor_id,
            object_id,
            objects.public_addressing(f"{group.actor_id}/followers"),
        )
        group_inboxes = await node.store.follower_inboxes([group.row.id])
        await delivery.enqueue(
            node.store, activity=boost, sender=group.username, inbox_urls=group_inboxes
        )


@dataclass(frozen=True)
class Draft:
    kind: PostKind
    title: str
    body: str
    summary: str | None = None
    media_ids: tuple[int, ...] = ()  # uploaded images (node/content/uploads.py) to attach
    replies: str | None = None  # who may reply: interaction_policy.REPLY_CHOICES (default)
    quotes: str | None = None  # who may quote: interaction_policy.QUOTE_CHOICES (default)
    language: str | None = None  # what it is written in (default: written_in's)


def written_in(node: Node, author: LocalActor, draft: Draft) -> Draft:
    """The draft with its language: as given (one of the interface's languages), else the
    author's own setting, else the node's CONODE_LANGUAGE."""
    if draft.language is None:
        return replace(draft, language=author.row.language or node.settings.language)
    language = draft.language.strip().lower()
    if language not in interface_languages():
        raise PublishError(
            "There is no language {language!r} here; choose one of {choices}.",
            language=draft.language,
            choices=", ".join(interface_languages()),
        )
    return replace(draft, language=language)


def _checked(draft: Draft) -> Draft:
    title = " ".join(draft.title.split())
    if not title:
        raise PublishError("A post needs a title.")
    if len(title) > MAX_TITLE:
        raise PublishError(
            "The title is {length} characters; keep it under {most}",
            length=len(title),
            most=MAX_TITLE,
        )
    if not draft.body.strip():
        raise PublishError("A post needs some text.")
    return replace(draft, title=title)


def post_row(author: LocalActor, draft: Draft, links: Links | None = None) -> PostRow:
    """A new post as written (checked, rendered: with `links`, its hashtags and mentions
    linked), not stored yet."""
    moved = moved_notice(author.row)
    if moved:
        raise PublishError(moved)
    draft = _checked(draft)
    summary = draft.summary or html.summary_from_markdown(draft.body, MAX_SUMMARY)
    try:
        replies, quotes = interaction_policy.checked(draft.replies, draft.quotes)
    except interaction_policy.PolicyError as exc:
        raise PublishError(str(exc)) from exc
    return PostRow(
        public_id=secrets.token_urlsafe(9),
        author_id=author.row.id,
        kind=draft.kind,
        title=draft.title,
        summary=summary[:MAX_SUMMARY],
        source=draft.body,
        content_html=html.render_markdown(draft.body, links),
        hashtags=json.dumps(html.hashtags(f"{draft.title}\n{draft.body}")),
        published_at=utcnow(),
        reply_policy=replies,
        quote_policy=quotes,
        mentions=mentions.stored(links) if links else "[]",
        language=draft.language,
    )


async def create_post(node: Node, author: LocalActor, draft: Draft) -> PostRow:
    if draft.kind not in ARTICLE_KINDS:
        raise PublishError(f"A {draft.kind} is published with its terms, as an offer")
    draft = written_in(node, author, draft)
    row = post_row(author, draft, await mentions.links_for(node, draft.body))
    async with node.store.transaction():
        post = await node.store.insert_post(row)
        if draft.media_ids:
            await node.store.attach_media(list(draft.media_ids), post.id or 0)
        document = await published_document(node, post, author)
        create = objects.create(f"{document['id']}/activity", document)
        create = await integrity.with_proofs(node, author, create)  # FEP-8b32
        await _fan_out(node, author, create, announce=True)
        await tell_mentioned(node, post, author)
    return post


def _edited_summary(post: PostRow, source: str, given: str | None) -> str:
    """The author's own summary stays (or the new one they give); one we generated from the
    old text is generated again from the new text. The edit form hands the old summary back
    unchanged, so a summary equal to what the old text generates is taken as ours."""
    generated = html.summary_from_markdown(post.source, MAX_SUMMARY)[:MAX_SUMMARY]
    summary = post.summary if given is None else given
    if summary.strip() and summary.strip() != generated.strip():
        return summary
    return html.summary_from_markdown(source, MAX_SUMMARY)


def post_changes(
    post: PostRow,
    *,
    title: str | None,
    body: str | None,
    summary: str | None,
    links: Links | None = None,
) -> dict[str, Any]:
    """The columns an edit changes, checked and rendered (offers edit their posts too)."""
    if post.deleted_at is not None:
        raise PublishError(f"post {post.public_id} was deleted")
    source = body if body is not None else post.source
    draft = _checked(Draft("blog", title or post.title, source, summary))
    summary = _edited_summary(post, source, summary)
    return {
        "title": draft.title,
        "source": source,
        "content_html": html.render_markdown(source, links),
        "summary": summary[:MAX_SUMMARY],
        "hashtags": json.dumps(html.hashtags(f"{draft.title}\n{source}")),
        "mentions": mentions.stored(links) if links else "[]",
        "updated_at": utcnow(),
    }


async def edit_post(
    node: Node, post: PostRow, *, title: str | None, body: str | None, summary: str | None
) -> PostRow:
    if post.kind not in ARTICLE_KINDS:
        raise PublishError(f"a {post.kind} is edited by the offers module")
    source = body if body is not None else post.source
    links = await mentions.links_for(node, source)
    changes = post_changes(post, title=title, body=body, summary=summary, links=links)
    now: datetime = changes["updated_at"]
    author = await author_of(node, post)
    async with node.store.transaction():
        await node.store.update_post(post.id or 0, **changes)
        updated = await node.store.post(post.public_id)
        assert updated is not None
        document = await published_document(node, updated, author)
        activity = objects.update(f"{document['id']}/update/{int(now.timestamp())}", document)
        await _fan_out(node, author, activity, announce=False)
        await tell_mentioned(node, updated, author)
    return updated


async def delete_post(node: Node, post: PostRow) -> None:
    if post.deleted_at is not None:
        raise PublishError(f"post {post.public_id} was already deleted")
    author = await author_of(node, post)
    object_id = post_id(node, post)
    activity = objects.delete(
        f"{object_id}/delete",
        author.actor_id,
        object_id,
        objects.public_addressing(f"{author.actor_id}/followers"),
    )
    async with node.store.transaction():
        await node.store.update_post(
            post.id or 0, deleted_at=utcnow(), source="", content_html="", summary="", title=""
        )
        await _fan_out(node, author, activity, announce=False)


async def post_from_id(node: Node, object_id: str) -> PostRow | None:
    prefix = f"{node.settings.url}/posts/"
    if object_id.startswith(prefix):
        return await node.store.post(object_id.removeprefix(prefix))
    return await node.store.post(object_id)


async def federate(node: Node, author: LocalActor, activity: Document, *, announce: bool) -> None:
    """Deliver an activity about a member's post as posts are delivered (offers use this)."""
    await _fan_out(node, author, activity, announce=announce)
