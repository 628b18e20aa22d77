"""Acting on verified inbound activities: the dispatch table and one handler per type.

The inbox has already checked size, JSON, blocks, the signature and that the signer is the
`actor`; here every handler still checks that the actor may speak for the object it touches
(an object's author is on the object's own host: Mastodon CVE-2024-23832 was this gap).
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from activitypub import objects, webfinger
from activitypub.vocab import Document, as_list, first_id, id_of, is_public, published_at, type_of
from node.content import conversations, html, interaction_policy, mentions, quotes
from node.context import Node
from node.federation import delivery, integrity, remote, retry_policy
from node.federation.actors import LocalActor, local_actor
from node.moderation import rules as moderation
from node.network import group_posts, links, sharing
from node.notifications import events
from node.offers import exchanges, remote_agreements
from node.storage import FollowerRow, NoteRow, utcnow

from . import moving

logger = logging.getLogger(__name__)

MAX_THREAD_DEPTH = 8  # ancestors fetched when walking inReplyTo up to one of our posts
NOTE_TYPES = frozenset({"Note", "Article", "Page", "Question"})
MAX_CONTENT_CHARS = 100_000
# Node-level actors: they may only link with our Group as a Group (a person follows as a Person).
LINK_ONLY_TYPES = frozenset({"Application"})


@dataclass(frozen=True)
class Outcome:
    outcome: str  # accepted | held | dropped | duplicate
    reason: str = ""


def accepted(reason: str = "") -> Outcome:
    return Outcome("accepted", reason)


def dropped(reason: str) -> Outcome:
    return Outcome("dropped", reason)


Handler = Callable[[Node, Document, str], Awaitable[Outcome]]


def new_activity_id(node: Node) -> str:
    return f"{node.settings.url}/activities/{uuid.uuid4()}"


async def _local_by_id(node: Node, actor_id: str) -> LocalActor | None:
    base = node.settings.url
    for prefix in ("/users/", "/groups/"):
        if actor_id.startswith(base + prefix):
            row = await node.store.local_actor(actor_id.removeprefix(base + prefix))
            if row is not None and local_actor(node.settings, row).actor_id == actor_id:
                return local_actor(node.settings, row)
    return None


# --- follows -----------------------------------------------------------------------------------


async def on_follow(node: Node, activity: Document, actor_id: str) -> Outcome:
    target = await _local_by_id(node, id_of(activity.get("object")) or "")
    if target is None:
        return dropped("follow of an unknown or unfollowable actor")
    try:
        follower = await remote.get_actor(node, actor_id)
    except remote.RemoteError as exc:
        return dropped(exc.reason)
    if target.kind == "Group" and follower.type in LINK_ONLY_TYPES:
        return dropped(f"a {follower.type} cannot follow the group: nodes link Group to Group")
    if target.kind == "Group" and follower.type == "Group":  # a node asking for a link
        return Outcome(*await links.on_group_follow(node, target, follower, str(activity["id"])))
    row = FollowerRow(
        local_actor_id=target.row.id,
        actor_id=actor_id,
        host=follower.host,
        inbox_url=follower.inbox_url,
        shared_inbox_url=follower.shared_inbox_url,
        follow_id=id_of(activity.get("id")),
        created_at=utcnow(),
    )
    reply = objects.accept(new_activity_id(node), target.actor_id, activity)
    async with node.store.transaction():
        await node.store.add_follower(row)
        await delivery.enqueue(
            node.store, activity=reply, sender=target.username, inbox_urls=[follower.inbox_url]
        )
        if target.kind == "Person":
            await events.follower(node.store, target.row.id, actor_id)
    return accepted(f"{follower.handle} follows {target.handle}; Accept queued")


async def _undo_follow(node: Node, inner: Document, actor_id: str) -> Outcome:
    target = await _local_by_id(node, id_of(inner.get("object")) or "")
    if target is None:
        return dropped("undo of a follow of an unknown actor")
    if target.kind == "Group":
        ended = await links.on_ended(node, actor_id, id_of(inner))
        if ended is not None:
            return Outcome(*ended)
    removed = await node.store.remove_follower(target.row.id, actor_id)
    return accepted("unfollowed" if removed else "was not following")


async def on_undo(node: Node, activity: Document, actor_id: str) -> Outcome:
    inner = activity.get("object")
    if isinstance(inner, str):
        # Some servers send only the id: it can only be a reaction we stored by that id.
        removed = await node.store.remove_reaction(inner, actor_id)
        return accepted("reaction removed") if removed else dropped("undo of an unknown object")
    if not isinstance(inner, dict):
        return dropped("undo without an object")
    if id_of(inner.get("actor")) not in (None, actor_id):
        return dropped("undo of another actor's activity")
    if type_of(inner) == "Follow":
        return await _undo_follow(node, inner, actor_id)
    if type_of(inner) in ("Like", "Announce"):
        removed = await node.store.remove_reaction(id_of(inner) or "", actor_id)
        return accepted("reaction removed" if removed else "reaction was not counted")
    return dropped(f"undo of {type_of(inner)!r} is not supported")


async def on_accept(node: Node, activity: Document, actor_id: str) -> Outcome:
    if moved := await moving.on_accept(node, activity, actor_id):  # a member's hours moved
        return Outcome(*moved)
    follow_id = id_of(activity.get("object"))
    linked = await links.on_accept(node, follow_id, actor_id) if follow_id else None
    if linked is not None:
        return Outcome(*linked)
    if follow_id and await node.store.mark_follow_accepted(follow_id, actor_id):
        return accepted("our follow was accepted")
    if isinstance(activity.get("result"), dict):  # FEP-0837: a response of ours was accepted
        return Outcome(*await remote_agreements.on_accept(node, activity, actor_id))
    return dropped("accept of nothing we asked")


async def on_reject(node: Node, activity: Document, actor_id: str) -> Outcome:
    follow_id = id_of(activity.get("object"))
    if not follow_id or not follow_id.startswith(node.settings.url + "/"):
        return dropped("reject of nothing we asked")
    ended = await links.on_ended(node, actor_id, follow_id)
    if ended is not None:
        return Outcome(*ended)
    member = await _member_of_follow(node, follow_id, actor_id)
    if member is None:
        return dropped("reject of nothing we asked")
    await node.store.remove_following(member, actor_id)
    return accepted("our follow was rejected")


async def _member_of_follow(node: Node, follow_id: str, actor_id: str) -> int | None:
    for row in await node.store.local_actors("Person"):
        following = await node.store.following_row(row.id, actor_id)
        if following and following["follow_id"] == follow_id:
            return row.id
    return None


# --- notes: replies become comments --------------------------------------------------------------


def _first_reply_target(note: Document) -> str | None:
    return first_id(note.get("inReplyTo"))


def _published(note: Document) -> datetime:
    return published_at(note) or utcnow()


async def _post_id_for(node: Node, object_id: str) -> int | None:
    """The local post an object id belongs to: the post itself or a note under it."""
    prefix = f"{node.settings.url}/posts/"
    if object_id.startswith(prefix):
        post = await node.store.post(object_id.removeprefix(prefix).split("/")[0])
        return post.id if post is not None and post.deleted_at is None else None
    known = await node.store.note(object_id)
    return known.post_id if known is not None else None


async def _ancestors(node: Node, note: Document) -> tuple[int | None, list[Document]]:
    """Walk inReplyTo up to one of our posts; returns (post id, fetched ancestors, top first)."""
    chain: list[Document] = []
    current = note
    for _ in range(MAX_THREAD_DEPTH):
        target = _first_reply_target(current)
        if target is None:
            return None, []
        post_id = await _post_id_for(node, target)
        if post_id is not None:
            return post_id, chain[::-1]
        if target.startswith(node.settings.url + "/"):
            return None, []
        try:
            parent = await remote.fetch_signed(node, target)
        except remote.RemoteError:
            return None, []
        if parent.get("id") != target or type_of(parent) not in NOTE_TYPES:
            return None, []
        chain.append(parent)
        current = parent
    return None, []


def _note_author(note: Document) -> str | None:
    return first_id(note.get("attributedTo"))


def _mentioned(note: Document) -> list[str]:
    """The accounts the note's `Mention` tags name (hrefs)."""
    return [
        str(tag["href"])
        for tag in as_list(note.get("tag"))
        if isinstance(tag, dict) and type_of(tag) == "Mention" and isinstance(tag.get("href"), str)
    ]


async def _store_comment(node: Node, note: Document, post_id: int) -> str:
    author = _note_author(note) or ""
    public = is_public(note)
    status = "private"
    if public:
        status = await moderation.status_for_new_comment(node.store, node.settings, author)
    content = str(note.get("content") or "")[:MAX_CONTENT_CHARS]
    row = NoteRow(
        object_id=str(note["id"]),
        post_id=post_id,
        in_reply_to=_first_reply_target(note) or "",
        author_id=author,
        local_author_id=None,
        host=remote.host_of(author),
        url=id_of(note.get("url")),
        content_html=html.sanitize_comment(content),
        summary=html.plain_text(str(note.get("summary") or ""), 500) or None,
        sensitive=bool(note.get("sensitive")),
        public=public,
        status=status,
        published_at=_published(note),
        created_at=utcnow(),
        context=conversations.context_of(note),
        mentions=json.dumps(await mentions.local_members(node, _mentioned(note))),
        language=objects.written_language(note),
    )
    inserted = await node.store.insert_note(row)
    if inserted:
        await exchanges.record_reply(node, row.object_id)  # a reply to an offer is a response
        await _tell_about(node, row.object_id)
    return status if inserted else "duplicate"


async def _tell_about(node: Node, object_id: str) -> None:
    """Moderators hear of a held comment; the post's author of a public one."""
    note = await node.store.note(object_id)
    if note is None:
        return
    if note.status == "pending":
        await events.comment_waiting(node.store, note)
    await events.comment_public(node.store, note)


async def _check_authority(node: Node, note: Document, actor_id: str) -> str | None:
    """Why the actor may not speak for this object, or None when it may."""
    object_id = note.get("id")
    if not isinstance(object_id, str):
        return "object without id"
    if not remote.same_origin(object_id, actor_id):
        return "object is not on the actor's host"
    if _note_author(note) != actor_id:
        return "object is attributed to someone else"
    return None


async def _on_create_note(node: Node, note: Document, actor_id: str) -> Outcome:
    post_id, ancestors = await _ancestors(node, note)
    if post_id is None:  # a broken inReplyTo chain may still name the conversation (FEP-7888)
        post_id = await conversations.post_for_context(node, note)
    if post_id is None:
        told = 0
        if is_public(note):  # a post elsewhere naming our members: they are told, linked to it
            told = await mentions.tell_mentioned(node, _mentioned(note), str(note["id"]), actor_id)
        if await node.store.is_followed_by_members(actor_id) and is_public(note):
            return await _keep_remote_post(node, note, actor_id)
        if told:
            return accepted(f"a post mentioning {told} of our members: they are told")
        return dropped("not a reply to anything of ours")
    refusal = await interaction_policy.reply_refusal(node, post_id, actor_id)
    if refusal is not None:
        return dropped(f"reply refused: {refusal}")
    for ancestor in ancestors:
        author = _note_author(ancestor)
        # A fetched ancestor speaks for itself only if it lives on its author's host.
        trusted = author is not None and remote.same_origin(str(ancestor["id"]), author)
        if trusted and not await moderation.is_blocked_now(node.store, author):
            await _store_comment(node, ancestor, post_id)
    status = await _store_comment(node, note, post_id)
    if status == "duplicate":
        return Outcome("duplicate", "comment already stored")
    if status == "pending":
        return Outcome("held", "comment held for moderation")
    if status == "private":
        return accepted("comment stored as private (not addressed to the public)")
    return accepted("comment published")


async def _keep_remote_post(node: Node, note: Document, actor_id: str) -> Outcome:
    document = dict(note)
    document["content"] = html.sanitize_comment(str(note.get("content") or ""))
    stored = await node.store.upsert_remote_post(
        str(note["id"]), actor_id, str(type_of(note)), json.dumps(document)
    )
    return accepted("post from a followed account stored" if stored else "post updated")


async def on_create(node: Node, activity: Document, actor_id: str) -> Outcome:
    note = activity.get("object")
    if isinstance(note, str):
        try:
            note = await remote.fetch_signed(node, note)
        except remote.RemoteError as exc:
            return dropped(exc.reason)
    if not isinstance(note, dict) or type_of(note) not in NOTE_TYPES:
        return dropped(f"create of unsupported object {type_of(note)!r}")
    problem = await _check_authority(node, note, actor_id)
    if problem:
        return dropped(problem)
    confirmed = await remote_agreements.on_confirmation(node, note, actor_id)
    if confirmed is not None:
        return Outcome(*confirmed)
    quoted = await quotes.on_quote_post(node, note, actor_id)  # a quote of one of our posts
    if quoted is not None and not _first_reply_target(note):
        return Outcome(*quoted)
    posted = await group_posts.on_create(node, note, actor_id)  # a post to our Group (FEP-1b12)
    if posted is not None:
        return Outcome(*posted)
    return await _on_create_note(node, note, actor_id)


async def on_update(node: Node, activity: Document, actor_id: str) -> Outcome:
    obj = activity.get("object")
    if not isinstance(obj, dict):
        return dropped("update without an embedded object")
    if id_of(obj) == actor_id:
        try:
            await remote.refresh_actor(node, actor_id)
        except remote.RemoteError as exc:
            return dropped(exc.reason)
        return accepted("actor profile refreshed")
    if obj.get("type") == "Offer":
        return Outcome(*await exchanges.on_update_offer(node, obj, actor_id))
    problem = await _check_authority(node, obj, actor_id)
    if problem:
        return dropped(problem)
    known = await node.store.note(str(obj["id"]))
    if known is not None:
        if known.author_id != actor_id or known.status == "deleted":
            return dropped("update of a note that is not theirs")
        content = html.sanitize_comment(str(obj.get("content") or "")[:MAX_CONTENT_CHARS])
        await node.store.update_note(
            known.id or 0,
            content_html=content,
            language=objects.written_language(obj),
            updated_at=utcnow(),
        )
        return accepted("comment edited")
    kept = await node.store.remote_post(str(obj["id"]))
    if kept is not None and kept["actor_id"] == actor_id:
        return await _keep_remote_post(node, obj, actor_id)
    shared = await sharing.on_origin_update(node, activity, actor_id)
    return Outcome(*shared) if shared else dropped("update of an unknown object")


async def on_delete(node: Node, activity: Document, actor_id: str) -> Outcome:
    object_id = id_of(activity.get("object"))
    if not object_id:
        return dropped("delete without an object")
    if object_id == actor_id:
        removed = await node.store.remove_followers_matching(actor_id=actor_id, host=None)
        hidden = await _delete_notes_by(node, actor_id)
        await node.store.forget_remote_key(actor_id)
        node.keys.forget_owner(actor_id)
        return accepted(f"account deleted: {removed} follows and {hidden} comments removed")
    if not remote.same_origin(object_id, actor_id):
        return dropped("delete of an object on another host")
    known = await node.store.note(object_id)
    if known is not None and known.author_id == actor_id:
        await node.store.update_note(known.id or 0, status="deleted", content_html="")
        return accepted("comment deleted")
    kept = await node.store.remote_post(object_id)
    if kept is not None and kept["actor_id"] == actor_id:
        await node.store.delete_remote_post(object_id)
        return accepted("followed account's post deleted")
    shared = await sharing.on_origin_delete(node, activity, actor_id)
    shared = shared or await quotes.on_deleted(node, object_id, actor_id)
    shared = shared or await group_posts.on_deleted(node, object_id, actor_id)
    return Outcome(*shared) if shared else dropped("delete of an unknown object")


async def _delete_notes_by(node: Node, actor_id: str) -> int:
    count = 0
    for status in ("pending", "approved", "rejected", "private"):
        count += await node.store.set_status_of_notes_from(
            actor_id=actor_id, host=None, old=status, new="deleted"
        )
    return count


# --- reactions and reports ---------------------------------------------------------------------


async def _on_reaction(node: Node, activity: Document, actor_id: str) -> Outcome:
    object_id = id_of(activity.get("object")) or ""
    kind = str(type_of(activity))
    if await _post_id_for(node, object_id) is None:
        if kind != "Announce":
            return dropped(f"{kind} of something that is not ours")
        linked = await node.store.link_of_actor(actor_id) is not None
        if not linked and await node.store.is_followed_by_members(actor_id):
            return dropped("boosts by followed accounts are not kept yet")
        return Outcome(*await sharing.on_announce(node, activity, actor_id))
    counted = await node.store.add_reaction(str(activity["id"]), kind, object_id, actor_id)
    return accepted(f"{kind} counted") if counted else Outcome("duplicate", "already counted")


async def on_flag(node: Node, activity: Document, actor_id: str) -> Outcome:
    targets = [ref for ref in (id_of(o) for o in as_list(activity.get("object"))) if ref]
    content = html.plain_text(str(activity.get("content") or ""), 5000)
    report_id = await node.store.add_report(str(activity["id"]), actor_id, content, targets)
    if report_id is None:
        return Outcome("duplicate", "report already stored")
    await events.report(node.store, report_id, actor_id)
    return accepted("report stored")


async def on_offer(node: Node, activity: Document, actor_id: str) -> Outcome:
    if moved := await moving.on_offer(node, activity, actor_id):  # a member's hours moving here
        return Outcome(*moved)
    return Outcome(*await exchanges.on_offer(node, activity, actor_id))


async def on_move(node: Node, activity: Document, actor_id: str) -> Outcome:
    return Outcome(*await moving.on_move(node, activity, actor_id))


async def on_quote_request(node: Node, activity: Document, actor_id: str) -> Outcome:
    return Outcome(*await quotes.on_quote_request(node, activity, actor_id))


HANDLERS: dict[str, Handler] = {
    "Follow": on_follow,
    "Undo": on_undo,
    "Accept": on_accept,
    "Reject": on_reject,
    "Create": on_create,
    "Update": on_update,
    "Delete": on_delete,
    "Like": _on_reaction,
    "Announce": _on_reaction,
    "Flag": on_flag,
    "Offer": on_offer,
    "QuoteRequest": on_quote_request,
    "Move": on_move,
}


def _sources(activity: Document) -> list[str]:
    """The activity's id, its object's id and the object's author: where it comes from."""
    embedded = activity.get("object")
    author = first_id(embedded.get("attributedTo")) if isinstance(embedded, dict) else None
    return [url for url in (id_of(activity.get("id")), id_of(embedded), author) if url]


async def process(node: Node, activity: Document, actor_id: str) -> Outcome:
    handler = HANDLERS.get(type_of(activity) or "")
    if handler is None:
        return dropped(f"activity type {type_of(activity)!r} is not handled")
    # The inbox's block list may be a second old; this reads the database, so nothing is
    # acted on once `conode block add` has returned, whichever process made the block.
    if await moderation.is_blocked_now(node.store, actor_id, *_sources(activity)):
        return dropped("blocked")
    refusal = await integrity.incoming_problem(node, activity, actor_id)  # FEP-8b32
    if refusal is not None:
        return dropped(refusal)
    return await handler(node, activity, actor_id)


# A row claimed this many times was being worked when its worker died each time: it is set
# aside as failed rather than taking every worker down with it again.
MAX_INBOUND_ATTEMPTS = 5


async def _outcome_of(node: Node, row: dict[str, Any]) -> Outcome:
    if row["attempts"] > MAX_INBOUND_ATTEMPTS:
        return Outcome("failed", f"gave up after {MAX_INBOUND_ATTEMPTS} attempts")
    try:
        return await process(node, json.loads(row["body"]), row["actor_id"])
    except remote.RemoteError as exc:
        return dropped(exc.reason)


async def process_queued(node: Node, *, limit: int = 32) -> int:
    """Act on stored inbound activities; each gets an activity-log line saying what happened.

    Leased like deliveries (CONODE_DELIVERY_LEASE_SECONDS overrides the lease for tests), so
    a worker killed mid-batch leaves its rows to another worker once the lease runs out."""
    rows = await node.store.claim_inbound(limit, retry_policy.lease())
    for row in rows:
        try:
            outcome = await _outcome_of(node, row)
        except Exception:  # the worker loop's per-item guard: one bad row must not stall others
            logger.exception("inbound %s failed; it will be tried again", row["activity_id"])
            await node.store.finish_inbound(row["id"], "queued")  # releases the lease
            continue
        await node.store.log(
            "inbound",
            outcome.outcome,
            outcome.reason,
            activity_id=row["activity_id"],
            type_=row["type"],
            actor_id=row["actor_id"],
            host=webfinger.host_of(row["actor_id"]),
        )
        await node.store.finish_inbound(
            row["id"], "failed" if outcome.outcome == "failed" else "done"
        )
        logger.info(
            "inbound %s %s: %s %s", row["type"], row["activity_id"], outcome.outcome, outcome.reason
        )
    return len(rows)
