"""`/moderation/links`: the nodes we are linked with, link requests waiting for an admin, and
the block suggestions of linked nodes whose moderation we trust. Moderators see it; linking is
a decision about the whole node, so only admins approve, remove or trust (as on the CLI)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from node.context import Node
from node.federation.actors import LocalActor
from node.network import links, shared_blocks
from node.storage import LinkRow
from node.wording import WordedError

from .guards import for_admins_form, for_moderators, text_field
from .i18n import N_
from .responses import node_of, render


async def _trust(node: Node, link_id: int) -> LinkRow:
    return await links.trust_moderation(node, link_id, trusted=True)


async def _untrust(node: Node, link_id: int) -> LinkRow:
    return await links.trust_moderation(node, link_id, trusted=False)


ACTIONS: dict[str, Callable[[Node, int], Awaitable[LinkRow]]] = {
    "approve": links.approve_link,
    "remove": links.remove_link,
    "trust": _trust,
    "untrust": _untrust,
}


def actions_for(link: LinkRow) -> list[tuple[str, str]]:
    """(action, button label) an admin may take on a link, in the order shown."""
    if link.state == "pending":
        return [("approve", N_("Approve")), ("remove", N_("Refuse"))]
    shown = [("remove", N_("Remove"))]
    if link.state == "linked":
        trust = ("untrust", N_("Stop following their blocks"))
        shown.insert(0, trust if link.trust_moderation else ("trust", N_("Follow their blocks")))
    return shown


async def _page(
    request: Request, status_code: int = 200, error: str | WordedError = ""
) -> Response:
    node = node_of(request)
    return render(
        request,
        "links.html",
        status_code,
        links=[(link, actions_for(link)) for link in await node.store.links()],
        suggestions=await shared_blocks.open_suggestions(node),
        section="links",
        error=error,
    )


@for_moderators
async def links_page(request: Request, member: LocalActor) -> Response:
    return await _page(request)


@for_admins_form
async def change_link(request: Request, member: LocalActor, form: FormData) -> Response:
    node = node_of(request)
    action = ACTIONS.get(text_field(form, "action", 16))
    link_id = text_field(form, "link", 12)
    if action is None or not link_id.isdigit():
        return await _page(request, 400, N_("Choose a link and an action."))
    try:
        link = await action(node, int(link_id))
    except links.LinkError as exc:
        return await _page(request, 400, exc)
    await node.store.record_moderation(
        member.row.id, f"link_{text_field(form, 'action', 16)}", link.actor_id
    )
    return RedirectResponse("/moderation/links", status_code=303)
