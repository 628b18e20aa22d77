"""Quote requests for our posts (FEP-044f): answered per the post's quote policy with an
`Accept` whose `result` is a QuoteAuthorization we serve at /quotes/<public_id>, or a `Reject`.

Mastodon 4.5 sends a `QuoteRequest{actor, object: <our post>, instrument: <the quoting post>}`
to the quoted author's inbox and shows the quote only once it holds the authorization.

The quotes we allowed, and quoting posts that reach us and the policy allows, are listed on the
quoted post's page like boosts, each a link to the quoting post; a quote deleted by its author
is no longer listed.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass

from activitypub import interaction, objects
from activitypub.vocab import Document, id_of
from activitypub.webfinger import host_of
from node.context import Node
from node.federation import delivery, remote
from node.storage import PostRow, utcnow

from . import html, interaction_policy, publishing

Result = tuple[str, str]  # (outcome, reason) for the inbound log


def authorization_id(node: Node, public_id: str) -> str:
    return f"{node.settings.url}/quotes/{public_id}"


async def authorization_document(node: Node, public_id: str) -> Document | None:
    row = await node.store.quote_authorization(public_id)
    post = await node.store.post_by_id(row["post_id"]) if row else None
    if row is None or post is None or post.deleted_at is not None:
        return None
    author = await publishing.author_of(node, post)
    return interaction.quote_authorization(
        authorization_id(node, public_id),
        author.actor_id,
        row["quote_id"],
        publishing.post_id(node, post),
    )


async def _quoted_post(node: Node, target: str) -> PostRow | None:
    post = await publishing.post_from_id(node, target)
    if post is None or post.deleted_at is not None:  # any kind: offers carry a policy too
        return None
    return post if publishing.post_id(node, post) == target else None


async def on_quote_request(node: Node, activity: Document, actor_id: str) -> Result:
    target = id_of(activity.get("object"))
    quote_id = id_of(activity.get("instrument"))
    if not target or not quote_id or not isinstance(activity.get("id"), str):
        return "dropped", "quote request without id, object or instrument"
    if not remote.same_origin(quote_id, actor_id):
        return "dropped", "quote request for a post not on the requester's host"
    post = await _quoted_post(node, target)
    if post is None:
        return "dropped", "quote request for something that is not ours"
    author = await publishing.author_of(node, post)
    requester = await remote.get_actor(node, actor_id)
    embedded = {key: value for key, value in activity.items() if key not in ("@context", "proof")}
    answer_id = f"{node.settings.url}/activities/{uuid.uuid4()}"
    refusal = await interaction_policy.quote_refusal(node, post, actor_id)
    if refusal is not None:
        answer = objects.reject(answer_id, author.actor_id, embedded)
        reason = f"quote refused: {refusal}"
    else:
        row = await node.store.add_quote_authorization(
            {
                "public_id": secrets.token_urlsafe(9),
                "post_id": post.id,
                "quote_id": quote_id,
                "actor_id": actor_id,
                "created_at": utcnow(),
            }
        )
        answer = objects.accept(answer_id, author.actor_id, embedded)
        answer["result"] = authorization_id(node, row["public_id"])
        reason = "quote authorized"
    answer["@context"] = [answer["@context"], interaction.TERMS]
    answer["to"] = [actor_id]
    await delivery.enqueue(
        node.store, activity=answer, sender=author.username, inbox_urls=[requester.inbox_url]
    )
    return ("dropped" if refusal else "accepted"), reason


# --- quotes of our posts, as they are shown --------------------------------------------------

# Where a quoting post names what it quotes: FEP-044f, then the older spellings still sent.
QUOTE_PROPERTIES = ("quote", "quoteUrl", "quoteUri", "_misskey_quote")


@dataclass(frozen=True)
class Quote:
    url: str  # the quoting post (a link on the post page)
    who: str  # @name@host when we know the account, else its host


def quoted_id(note: Document) -> str | None:
    for name in QUOTE_PROPERTIES:
        value = id_of(note.get(name))
        if value:
            return value
    return None


async def on_quote_post(node: Node, note: Document, actor_id: str) -> Result | None:
    """A post that quotes one of ours: kept (shown on our post's page) if the post's quote
    policy allows its author, else refused with the reason; None when it quotes nothing ours."""
    target = quoted_id(note)
    post = await _quoted_post(node, target) if target else None
    if post is None or post.id is None:
        return None
    refusal = await interaction_policy.quote_refusal(node, post, actor_id)
    if refusal is not None:
        return "dropped", f"quote refused: {refusal}"
    await node.store.add_quote_authorization(
        {
            "public_id": secrets.token_urlsafe(9),
            "post_id": post.id,
            "quote_id": str(note["id"]),
            "actor_id": actor_id,
            "created_at": utcnow(),
        }
    )
    return "accepted", "quote of our post recorded"


async def on_deleted(node: Node, object_id: str, actor_id: str) -> Result | None:
    if await node.store.remove_quote(object_id, actor_id):
        return "accepted", "quote of our post removed"
    return None


async def quotes_of(node: Node, post: PostRow) -> list[Quote]:
    rows = await node.store.quotes_of_post(post.id or 0)
    actors = await node.store.remote_actors_by_id([row["actor_id"] for row in rows])
    shown = []
    for row in rows:
        url = html.safe_url(row["quote_id"])
        if url is None:
            continue
        actor = actors.get(row["actor_id"])
        shown.append(Quote(url, actor.handle if actor else host_of(row["actor_id"])))
    return shown
