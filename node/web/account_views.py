"""Account pages: admins invite people and manage members (roles, suspension, deletion); a
person with an invitation link chooses a username and password and becomes a member."""

from __future__ import annotations

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from node.accounts import credentials, sessions
from node.accounts import members as accounts
from node.federation.actors import LocalActor
from node.storage import LocalActorRow
from node.wording import WordedError

from . import i18n, paging
from .guards import for_admins, for_admins_form, public_form, text_field
from .i18n import N_
from .responses import error_page, node_of, render

MEMBERS_PAGE = 100
NOTICES = {
    "make_moderator": N_("@{name} is now a moderator."),
    "unmake_moderator": N_("@{name} is no longer a moderator."),
    "suspend": N_("@{name} is suspended and signed out everywhere."),
    "unsuspend": N_("@{name} may sign in again."),
    "delete": N_("@{name} is deleted; their posts were deleted and the deletion federated."),
}


async def _members_page(
    request: Request,
    status: int = 200,
    *,
    link: str = "",
    notice: str = "",
    error: str | WordedError = "",
    reset: tuple[str, str] | None = None,
) -> Response:
    store = node_of(request).store
    page = await store.members_page(paging.window(request, MEMBERS_PAGE))
    return render(
        request,
        "members.html",
        status,
        members=page.items,
        members_total=await store.count_local_actors("Person"),
        pager=paging.links(request, page),
        invitations=await store.invitations(),
        link=link,
        reset=reset,
        notice=notice,
        error=error,
        section="members",
        days=accounts.INVITATION_DAYS,
    )


@for_admins
async def members(request: Request, member: LocalActor) -> Response:
    done, name = request.query_params.get("done", ""), request.query_params.get("name", "")
    known = done in NOTICES and name.replace("_", "").isalnum()
    notice = i18n.translate(request, NOTICES[done]).format(name=name) if known else ""
    return await _members_page(request, notice=notice)


@for_admins_form
async def invite(request: Request, member: LocalActor, form: FormData) -> Response:
    days = text_field(form, "days", 4)
    try:
        link = await accounts.invite(
            node_of(request),
            member,
            int(days) if days.isdigit() else 0,
            text_field(form, "note", 200),
        )
    except accounts.AccountError as exc:
        return await _members_page(request, 400, error=exc)
    return await _members_page(request, link=link)


async def _member_in_path(request: Request) -> LocalActorRow | None:
    row = await node_of(request).store.local_actor(request.path_params["username"].lower())
    return row if row is not None and row.kind == "Person" else None


@for_admins_form
async def change_member(request: Request, member: LocalActor, form: FormData) -> Response:
    node = node_of(request)
    target = await _member_in_path(request)
    if target is None:
        return error_page(request, 404, "No member by that name here.")
    action = text_field(form, "action", 32)
    if action == "delete" and form.get("confirm") != "yes":
        return render(request, "account_confirm.html", target=target)
    try:
        await accounts.change(node, member, target, action)
    except accounts.AccountError as exc:
        return await _members_page(request, 400, error=exc)
    return RedirectResponse(f"/admin/members?done={action}&name={target.username}", 303)


@for_admins_form
async def reset_link(request: Request, member: LocalActor, form: FormData) -> Response:
    """A single-use link for a member to choose a new password, shown once on the page."""
    node = node_of(request)
    target = await _member_in_path(request)
    if target is None:
        return error_page(request, 404, "No member by that name here.")
    if target.is_admin:
        return await _members_page(request, 400, error=accounts.ADMINS_BY_CLI)
    try:
        link = await credentials.reset_link(node, target, member.row)
    except accounts.AccountError as exc:
        return await _members_page(request, 400, error=exc)
    await node.store.record_moderation(member.row.id, "reset_link", f"@{target.username}")
    return await _members_page(request, reset=(target.username, link))


async def join_page(request: Request) -> Response:
    digest = accounts.token_hash(request.path_params["token"])
    if await node_of(request).store.usable_invitation(digest) is None:
        return error_page(request, 410, accounts.USED_UP)
    return render(request, "join.html", token=request.path_params["token"], error="", username="")


@public_form
async def join(request: Request, form: FormData) -> Response:
    token = request.path_params["token"]
    username = text_field(form, "username", 64)
    password = text_field(form, "password", 1000)
    if password != text_field(form, "password_again", 1000):
        error = N_("The two passwords differ: type the same one twice.")
        return render(request, "join.html", 400, token=token, error=error, username=username)
    try:
        row = await accounts.join(
            node_of(request), token, username, text_field(form, "display_name", 200), password
        )
    except accounts.AccountError as exc:
        return render(request, "join.html", 400, token=token, error=exc, username=username)
    sessions.sign_in(request, row)
    return RedirectResponse(f"/@{row.username}", status_code=303)
