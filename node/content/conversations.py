"""Conversations as a whole (FEP-7888): each post's `context` is an OrderedCollection of the
post and all its public comments, and an incoming reply's `context` is kept so a reply whose
inReplyTo chain is broken (a deleted or unreachable parent) still finds its post.

A reply finds its post by context when the context is one of ours (`<post>/context`, or the
post id itself, which some servers use), or when an earlier comment named the same context
(Mastodon >= 4.4 sends its own conversation id).
"""

from __future__ import annotations

from activitypub.vocab import PUBLIC, Document, first_id
from node.context import Node
from node.storage import PostRow

from . import publishing

CONTEXT_PAGE_SIZE = 50
MAX_CONTEXT_CHARS = 2048


def context_id(node: Node, post: PostRow) -> str:
    return f"{publishing.post_id(node, post)}/context"


def context_of(note: Document) -> str | None:
    """The note's conversation id, if it is one we can keep (an id no longer than a URL column)."""
    context = first_id(note.get("context"))
    return context if context and len(context) <= MAX_CONTEXT_CHARS else None


async def post_for_context(node: Node, note: Document) -> int | None:
    """The post a reply belongs to by its `context` alone, or None."""
    context = context_of(note)
    if context is None or note.get("inReplyTo") is None:
        return None  # only a reply is attached: a post that merely names a context is not
    own = context.removesuffix("/context")
    post = await publishing.post_from_id(node, own) if own.startswith(node.settings.url) else None
    if post is not None and post.deleted_at is None and publishing.post_id(node, post) == own:
        return post.id
    return await node.store.post_of_context(context)


async def context_page(node: Node, post: PostRow, page: int) -> tuple[list[str], int]:
    """(item ids on page `page`, total): the post first, then its public comments, oldest
    first."""
    total = 1 + await node.store.count_visible_comments(post.id or 0)
    start = (page - 1) * CONTEXT_PAGE_SIZE
    items = [publishing.post_id(node, post)] if start == 0 else []
    comments = await node.store.visible_comments(
        post.id or 0, limit=CONTEXT_PAGE_SIZE - len(items), offset=max(start - 1, 0)
    )
    return items + [note.object_id for note in comments], total


def context_collection(
    collection_id: str, attributed_to: str, items: list[str], total: int, page: int
) -> Document:
    """The collection with page `page` embedded as `first` (page 1) or alone (`?page=N`)."""
    has_next = page * CONTEXT_PAGE_SIZE < total
    page_document: Document = {
        "id": f"{collection_id}?page={page}",
        "type": "OrderedCollectionPage",
        "partOf": collection_id,
        "orderedItems": items,
    }
    if has_next:
        page_document["next"] = f"{collection_id}?page={page + 1}"
    if page != 1:
        return {"@context": "https://www.w3.org/ns/activitystreams", **page_document}
    return {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": collection_id,
        "type": "OrderedCollection",
        "attributedTo": attributed_to,
        "to": [PUBLIC],
        "totalItems": total,
        "first": page_document,
    }
