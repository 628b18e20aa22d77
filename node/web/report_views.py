"""Reports from the web: a member reports a comment from its post's page, and a moderator
forwards a report to the reported account's server (a Flag from the node, as Mastodon does)."""

from __future__ import annotations

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from node.federation import report_forwarding
from node.federation.actors import LocalActor
from node.moderation import member_reports

from .guards import for_members_form, for_moderators_form, text_field
from .responses import error_page, node_of, render


@for_members_form
async def report_comment(request: Request, member: LocalActor, form: FormData) -> Response:
    node = node_of(request)
    reason = text_field(form, "reason", member_reports.MAX_REASON_CHARS)
    try:
        _, note = await member_reports.report_comment(
            node.store, member.actor_id, request.path_params["note_id"], reason
        )
    except member_reports.ReportError as exc:
        status = 404 if isinstance(exc, member_reports.NoSuchComment) else 400
        return error_page(request, status, str(exc))
    post = await node.store.post_by_id(note.post_id or 0)
    back = f"/posts/{post.public_id}#comment-{note.id}" if post else "/"
    return render(request, "reported.html", back=back)


@for_moderators_form
async def forward_report(request: Request, member: LocalActor, form: FormData) -> Response:
    node = node_of(request)
    report_id: int = request.path_params["report_id"]
    if await node.store.report(report_id) is None:
        return error_page(request, 404, "No such report.")
    comment = text_field(form, "comment", report_forwarding.MAX_COMMENT_CHARS)
    try:
        servers = await report_forwarding.forward_report(node, report_id, comment=comment)
    except report_forwarding.ForwardError as exc:
        reason = str(exc)
        return error_page(request, 400, f"{reason[:1].upper()}{reason[1:]}.")
    await node.store.record_moderation(
        member.row.id, "forward_report", f"report {report_id}", ", ".join(servers)
    )
    return RedirectResponse(f"/moderation/reports#report-{report_id}", status_code=303)
