"""Who may reply to and quote each post: the choices, the `interactionPolicy` we publish, and
the checks inbound replies and quote requests go through.

A post's author chooses per post (write form, `conode post create --replies/--quotes`); the
default lets anyone reply and followers quote. Published as GoToSocial's `interactionPolicy`
with Mastodon's `canQuote` in it (activitypub/interaction.py): "followers" is the author's
followers collection, "members" and "nobody" list only the author (our members reply through
the node, not over ActivityPub).
"""

from __future__ import annotations

from activitypub import interaction
from activitypub.vocab import PUBLIC, Document
from node.context import Node
from node.federation.actors import LocalActor
from node.storage import PostRow

REPLY_CHOICES = ("anyone", "followers", "members")
QUOTE_CHOICES = ("anyone", "followers", "nobody")
DEFAULT_REPLIES = "anyone"
DEFAULT_QUOTES = "followers"

_REPLY_REFUSALS = {
    "followers": "only followers may reply",
    "members": "only members of this node may reply",
}
_QUOTE_REFUSALS = {
    "followers": "only followers may quote",
    "nobody": "the author allows no quotes",
}


class PolicyError(ValueError):
    """A policy that is not one of the choices; the message lists them."""


def checked(replies: str | None, quotes: str | None) -> tuple[str, str]:
    replies = replies or DEFAULT_REPLIES
    quotes = quotes or DEFAULT_QUOTES
    if replies not in REPLY_CHOICES:
        raise PolicyError(f"replies: choose one of {', '.join(REPLY_CHOICES)}")
    if quotes not in QUOTE_CHOICES:
        raise PolicyError(f"quotes: choose one of {', '.join(QUOTE_CHOICES)}")
    return replies, quotes


def _approved(choice: str, author: LocalActor) -> list[str]:
    if choice == "anyone":
        return [PUBLIC]
    if choice == "followers":
        return [f"{author.actor_id}/followers"]
    return [author.actor_id]


def policy_document(post: PostRow, author: LocalActor) -> Document:
    return interaction.interaction_policy(
        can_reply=_approved(post.reply_policy, author),
        can_quote=_approved(post.quote_policy, author),
    )


async def _refusal(
    node: Node, choice: str, refusals: dict[str, str], author_row_id: int, actor_id: str
) -> str | None:
    if choice == "anyone":
        return None
    if choice == "followers" and await node.store.is_follower(author_row_id, actor_id):
        return None
    return refusals.get(choice, "not allowed by the post's policy")


async def reply_refusal(node: Node, post_id: int, actor_id: str) -> str | None:
    """Why `actor_id` (a remote account) may not comment on the post, or None."""
    post = await node.store.post_by_id(post_id)
    if post is None:
        return None
    return await _refusal(node, post.reply_policy, _REPLY_REFUSALS, post.author_id, actor_id)


async def quote_refusal(node: Node, post: PostRow, actor_id: str) -> str | None:
    """Why `actor_id` may not quote the post, or None."""
    return await _refusal(node, post.quote_policy, _QUOTE_REFUSALS, post.author_id, actor_id)
