"""The moderators' other pages: reports (Flag) with the reported content, blocks, the activity
log with filters and the record of moderation actions, and the about page's text (admins)."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from node.content import html, publishing
from node.federation import report_forwarding
from node.federation.actors import LocalActor
from node.moderation import rules as moderation

from . import paging
from .guards import (
    for_admins,
    for_admins_form,
    for_moderators,
    for_moderators_form,
    text_field,
)
from .responses import error_page, node_of, render

LOG_DIRECTIONS = ("inbound", "delivery")
LOG_PAGE = 100
ACTIONS = "actions_"  # the moderation actions' own page links on the log page


async def _reported_content(request: Request, object_ids: list[str]) -> list[dict[str, Any]]:
    node = node_of(request)
    found = []
    for object_id in object_ids:
        note = await node.store.note(object_id)
        post = None if note else await publishing.post_from_id(node, object_id)
        found.append({"id": object_id, "note": note, "post": post})
    return found


@for_moderators
async def reports(request: Request, member: LocalActor) -> Response:
    rows = await report_forwarding.report_views(node_of(request))
    items = [(row, await _reported_content(request, row["object_ids"])) for row in rows[::-1]]
    return render(request, "reports.html", items=items, section="reports")


@for_moderators
async def blocks(request: Request, member: LocalActor) -> Response:
    rows = await node_of(request).store.blocks()
    return render(request, "blocks.html", blocks=rows, section="blocks", error="")


@for_moderators_form
async def change_block(request: Request, member: LocalActor, form: FormData) -> Response:
    store = node_of(request).store
    target = text_field(form, "target", 2048)
    try:
        if form.get("action") == "remove":
            await moderation.unblock(store, target)
            await store.record_moderation(member.row.id, "unblock", target)
        else:
            reason = text_field(form, "reason", 2000)
            result = await moderation.block(store, target, reason)
            await store.record_moderation(member.row.id, "block", result.target, reason)
    except moderation.ModerationError as exc:
        rows = await store.blocks()
        return render(request, "blocks.html", 400, blocks=rows, section="blocks", error=str(exc))
    return RedirectResponse("/moderation/blocks", status_code=303)


@for_moderators
async def activity_log(request: Request, member: LocalActor) -> Response:
    query = request.query_params
    direction = query.get("direction", "")
    filters = {
        "direction": direction if direction in LOG_DIRECTIONS else "",
        "host": query.get("host", "").strip().lower()[:255],
        "outcome": query.get("outcome", "").strip()[:32],
    }
    store = node_of(request).store
    entries = await store.log_page(
        paging.window(request, LOG_PAGE), **{k: v or None for k, v in filters.items()}
    )
    actions = await store.moderation_page(paging.window(request, LOG_PAGE, ACTIONS))
    return render(
        request,
        "log.html",
        entries=entries.items,
        pager=paging.links(request, entries),
        actions=actions.items,
        actions_pager=paging.links(request, actions, ACTIONS),
        filters=filters,
        directions=LOG_DIRECTIONS,
        section="log",
    )


@for_admins
async def about_editor(request: Request, member: LocalActor) -> Response:
    page = await node_of(request).store.site_page("about")
    source = page["source"] if page else ""
    done = request.query_params.get("done") == "look"
    return render(
        request, "about_edit.html", source=source, preview="", section="about", look_done=done
    )


@for_admins_form
async def save_about(request: Request, member: LocalActor, form: FormData) -> Response:
    source = text_field(form, "source", 50_000)
    if not source.strip():
        return error_page(request, 400, "The about page needs some text.")
    rendered = html.render_markdown(source)
    if form.get("action") == "preview":
        return render(request, "about_edit.html", source=source, preview=rendered, section="about")
    store = node_of(request).store
    await store.save_site_page("about", source, rendered, member.row.id)
    await store.record_moderation(member.row.id, "edit_about", "about page")
    return RedirectResponse("/about", status_code=303)
