"""Links between nodes: admin-approved mutual follows between the nodes' Group actors.

Mobilizon's relay pattern (FEDERATION.md, "Linked nodes"): our admin asks
(`Follow` from our Group to theirs, state `requested`); their node holds it (`pending`) until
their admin approves, which accepts and follows back; our node accepts that follow-back at once,
because our admin asked for it, and both sides are `linked`. Removing sends `Undo` of our
follow and `Reject` of theirs, and either one, received, ends the link on the other side.
"""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

from activitypub import objects, webfinger
from activitypub.vocab import Document
from node.context import Node
from node.federation import delivery, remote
from node.federation.actors import LocalActor, local_actor
from node.notifications import events
from node.storage import FollowerRow, LinkRow, RemoteActorRow, utcnow
from node.wording import WordedError

NODEINFO_REL = "nodeinfo.diaspora.software/ns/schema/2."
# Any server can make Groups and have them follow ours; these bound what waits for an admin.
MAX_PENDING_LINKS = 50
MAX_PENDING_LINKS_PER_HOST = 1


class LinkError(WordedError):
    """A link command that cannot be done; the message says why and what to do."""


async def our_group(node: Node) -> LocalActor:
    row = await node.store.local_actor(node.settings.group_handle)
    if row is None or row.kind != "Group":
        raise LinkError("this node has no Group actor yet: run `conode init` first")
    return local_actor(node.settings, row)


def node_url(actor_id: str) -> str:
    parts = urlsplit(actor_id)
    return f"{parts.scheme}://{parts.netloc}"


async def nodeinfo(node: Node, url: str) -> Document:
    """A node's NodeInfo 2.x document, found through its /.well-known/nodeinfo index."""
    base = url.rstrip("/")
    index = await remote.fetch_signed(node, f"{base}/.well-known/nodeinfo")
    entries = index.get("links")
    for entry in entries if isinstance(entries, list) else []:
        href = entry.get("href") if isinstance(entry, dict) else None
        rel = str(entry.get("rel")) if isinstance(entry, dict) else ""
        if isinstance(href, str) and NODEINFO_REL in rel and remote.same_origin(href, base):
            return await remote.fetch_signed(node, href)
    raise remote.RemoteError(f"{base} serves no NodeInfo 2.x")


async def _group_of_node(node: Node, url: str) -> str:
    """A node's Group actor id, from the `groupActor` its NodeInfo names."""
    metadata = (await nodeinfo(node, url)).get("metadata")
    group = metadata.get("groupActor") if isinstance(metadata, dict) else None
    if isinstance(group, str) and remote.same_origin(group, url):
        return group
    raise remote.RemoteError(f"{url} names no Group actor in its NodeInfo")


async def resolve_group(node: Node, target: str) -> RemoteActorRow:
    """`@handle@host`, a Group actor URL or a node's URL → that node's Group actor."""
    try:
        if target.startswith(("http://", "https://")) and urlsplit(target).path in ("", "/"):
            target = await _group_of_node(node, target)
        actor = await remote.resolve_account(node, target)
    except remote.RemoteError as exc:
        raise LinkError(f"cannot find {target}: {exc.reason}") from exc
    if actor.type != "Group":
        raise LinkError(f"{target} is a {actor.type}, not a node's Group actor; nodes link groups")
    return actor


def _follow_id(group: LocalActor) -> str:
    return f"{group.actor_id}/links/{secrets.token_urlsafe(9)}"


def handle_of(actor: RemoteActorRow) -> str:
    """`@name@host`, with a non-default port (RemoteActorRow.handle leaves it out)."""
    return f"@{actor.username}@{webfinger.host_of(actor.actor_id)}"


def _details(actor: RemoteActorRow) -> dict[str, str]:
    return {
        "host": webfinger.host_of(actor.actor_id),
        "name": actor.name or actor.username,
        "handle": handle_of(actor),
        "inbox_url": actor.inbox_url,
    }


async def request_link(node: Node, target: str) -> LinkRow:
    group = await our_group(node)
    actor = await resolve_group(node, target)
    if actor.actor_id == group.actor_id:
        raise LinkError("that is this node's own Group actor")
    existing = await node.store.link_of_actor(actor.actor_id)
    if existing is not None and existing.state == "pending":
        raise LinkError(
            f"{handle_of(actor)} already asked: run `conode links approve {existing.id}`"
        )
    if existing is not None and existing.state == "linked":
        raise LinkError(f"already linked with {handle_of(actor)} (link {existing.id})")
    follow = objects.follow(_follow_id(group), group.actor_id, actor.actor_id)
    async with node.store.transaction():
        link = await node.store.save_link(
            actor.actor_id, state="requested", our_follow_id=follow["id"], **_details(actor)
        )
        await _send(node, group, follow, actor.inbox_url)
    return link


async def _send(node: Node, group: LocalActor, activity: Document, inbox_url: str) -> None:
    await delivery.enqueue(
        node.store, activity=activity, sender=group.username, inbox_urls=[inbox_url]
    )


async def _accept_their_follow(
    node: Node, group: LocalActor, actor: RemoteActorRow, follow_id: str
) -> None:
    """Make their Group a follower of ours (so it receives what we share) and say so."""
    await node.store.add_follower(
        FollowerRow(
            local_actor_id=group.row.id,
            actor_id=actor.actor_id,
            host=actor.host,
            inbox_url=actor.inbox_url,
            shared_inbox_url=actor.shared_inbox_url,
            follow_id=follow_id,
            created_at=utcnow(),
        )
    )
    their_follow = objects.follow(follow_id, actor.actor_id, group.actor_id)
    accept_id = f"{group.actor_id}/links/accept-{secrets.token_urlsafe(9)}"
    await _send(
        node, group, objects.accept(accept_id, group.actor_id, their_follow), actor.inbox_url
    )


async def find_link(node: Node, link_id: int) -> LinkRow:
    link = await node.store.link(link_id)
    if link is None:
        raise LinkError(f"no link {link_id}: see `conode links list` for the ids")
    return link


async def approve_link(node: Node, link_id: int) -> LinkRow:
    link = await find_link(node, link_id)
    if link.state != "pending" or link.their_follow_id is None:
        raise LinkError(f"link {link_id} is {link.state}; only pending link requests are approved")
    group = await our_group(node)
    try:
        actor = await remote.get_actor(node, link.actor_id)
    except remote.RemoteError as exc:
        raise LinkError(f"cannot reach {link.handle}: {exc.reason}; try again later") from exc
    follow = objects.follow(_follow_id(group), group.actor_id, actor.actor_id)
    async with node.store.transaction():
        await _accept_their_follow(node, group, actor, link.their_follow_id)
        await _send(node, group, follow, actor.inbox_url)
        return await node.store.save_link(
            link.actor_id, state="linked", our_follow_id=follow["id"], **_details(actor)
        )


async def remove_link(node: Node, link_id: int) -> LinkRow:
    """Undo our follow and end theirs: sharing stops both ways."""
    link = await find_link(node, link_id)
    group = await our_group(node)
    async with node.store.transaction():
        if link.our_follow_id:
            await _undo_ours(node, group, link, link.our_follow_id)
        if link.their_follow_id:
            theirs = objects.follow(link.their_follow_id, link.actor_id, group.actor_id)
            reject_id = f"{group.actor_id}/links/reject-{secrets.token_urlsafe(9)}"
            await _send(
                node, group, objects.reject(reject_id, group.actor_id, theirs), link.inbox_url
            )
        await _forget(node, group, link)
    return link


async def _undo_ours(node: Node, group: LocalActor, link: LinkRow, follow_id: str) -> None:
    ours = objects.follow(follow_id, group.actor_id, link.actor_id)
    undo = objects.undo(f"{follow_id}/undo", group.actor_id, ours)
    await _send(node, group, undo, link.inbox_url)


async def _forget(node: Node, group: LocalActor, link: LinkRow) -> None:
    await node.store.remove_follower(group.row.id, link.actor_id)
    await node.store.delete_link(link.id)


async def trust_moderation(node: Node, link_id: int, *, trusted: bool) -> LinkRow:
    link = await find_link(node, link_id)
    return await node.store.save_link(link.actor_id, trust_moderation=trusted)


# --- inbound: what the other node's Group does ------------------------------------------------


async def on_group_follow(
    node: Node, group: LocalActor, actor: RemoteActorRow, follow_id: str
) -> tuple[str, str]:
    """A Group following our Group: a link request for our admin, or the follow-back that
    completes a link our admin asked for."""
    link = await node.store.link_of_actor(actor.actor_id)
    if link is not None and link.state in ("requested", "linked"):
        async with node.store.transaction():
            await _accept_their_follow(node, group, actor, follow_id)
            await node.store.save_link(
                actor.actor_id, state="linked", their_follow_id=follow_id, last_heard_at=utcnow()
            )
        return "accepted", f"link with {handle_of(actor)} is mutual; Accept queued"
    refused = await _too_many_pending(node, actor) if link is None else None
    if refused:
        return "dropped", refused
    link = await node.store.save_link(
        actor.actor_id, state="pending", their_follow_id=follow_id, **_details(actor)
    )
    await events.link_request(node.store, link.id, actor.actor_id)
    return (
        "held",
        f"link request from {handle_of(actor)} waits for `conode links approve {link.id}`",
    )


async def _too_many_pending(node: Node, actor: RemoteActorRow) -> str | None:
    """Why a new link request cannot wait for review, or None when it can."""
    pending = await node.store.links("pending")
    host = urlsplit(actor.actor_id).netloc
    same_host = [link for link in pending if urlsplit(link.actor_id).netloc == host]
    if len(same_host) >= MAX_PENDING_LINKS_PER_HOST:
        return (
            f"a link request from {host} already waits (link {same_host[0].id}): "
            "a node links with one Group"
        )
    if len(pending) >= MAX_PENDING_LINKS:
        return (
            f"{len(pending)} link requests already wait for review: approve or remove some "
            "with `conode links`"
        )
    return None


async def on_accept(node: Node, follow_id: str, actor_id: str) -> tuple[str, str] | None:
    """An Accept of our link Follow; None when it is not about a link."""
    link = await node.store.link_of_actor(actor_id)
    if link is None or link.our_follow_id != follow_id:
        return None
    await node.store.save_link(actor_id, last_heard_at=utcnow())
    return "accepted", f"{link.handle} accepted our link request"


async def on_ended(node: Node, actor_id: str, follow_id: str | None) -> tuple[str, str] | None:
    """Their Undo of their follow, or Reject of ours: the link is over on this side too.
    None when the actor is not linked (not about a link)."""
    link = await node.store.link_of_actor(actor_id)
    if link is None or follow_id not in (link.our_follow_id, link.their_follow_id, None):
        return None
    group = await our_group(node)
    async with node.store.transaction():
        if link.our_follow_id and follow_id == link.their_follow_id:
            # They left: end our side too, so neither group keeps following the other.
            await _undo_ours(node, group, link, link.our_follow_id)
        await _forget(node, group, link)
    return "accepted", f"link with {link.handle} removed by {link.host}"
