"""A member's own settings: the profile (name, bio, picture, email address) and the password;
and the single-use links an admin makes for choosing a new password."""

from __future__ import annotations

from datetime import timedelta

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from node.accounts import credentials, moving, profiles, sessions
from node.accounts.members import AccountError
from node.federation import actors
from node.federation.actors import LocalActor
from node.notifications import choices
from node.storage import utcnow
from node.wording import WordedError

from .guards import for_members, for_members_form, image_field, public_form, text_field
from .i18n import N_
from .responses import error_page, node_of, render

NOTICES = {
    "password": N_("Your password is changed; every other session has ended."),
    "profile": N_("Your profile is saved and sent to the servers of your followers."),
    "moved": N_("Your account has moved; your followers' servers are being told."),
    "mail": N_("Your mail choices are saved."),
}
MAX_PASSWORD = 1000
# The settings page's words for each kind of notification a member may have mailed.
MAIL_LABELS = {
    "response": N_("Someone answers your offer or request"),
    "match": N_("Your response to an offer or request is chosen"),
    "agreement": N_("Someone on another server accepts your response"),
    "reply": N_("Someone replies to your post or comment"),
    "mention": N_("Someone mentions you"),
    "hours": N_("Hours are recorded for an exchange you took part in"),
    "follower": N_("Someone follows you"),
    "comment_waiting": N_("A comment waits for moderation (at most one mail an hour)"),
    "report": N_("Someone sends a report (in the same hourly mail)"),
    "link_request": N_("Another node asks to link with ours"),
}


def _settings_page(
    request: Request,
    member: LocalActor,
    status: int = 200,
    *,
    notice: str = "",
    error: str | WordedError = "",
) -> Response:
    return render(
        request,
        "settings.html",
        status,
        member=member,
        notice=notice,
        error=error,
        avatar_url=actors.avatar_url(node_of(request).settings, member.row),
        max_bio=profiles.MAX_BIO,
        member_handle=f"@{member.username}@{node_of(request).settings.host}",
        mail_on=bool(node_of(request).settings.smtp_url),
        mail_kinds=[
            (kind, MAIL_LABELS[kind], kind in choices.chosen(member.row.mail_kinds))
            for kind in choices.offered(member.row)
        ],
    )


@for_members
async def settings_page(request: Request, member: LocalActor) -> Response:
    notice = NOTICES.get(request.query_params.get("done", ""), "")
    return _settings_page(request, member, notice=notice)


@for_members_form
async def change_password(request: Request, member: LocalActor, form: FormData) -> Response:
    try:
        row = await credentials.change_password(
            node_of(request),
            member.row,
            text_field(form, "old_password", MAX_PASSWORD),
            text_field(form, "password", MAX_PASSWORD),
            text_field(form, "password_again", MAX_PASSWORD),
        )
    except AccountError as exc:
        return _settings_page(request, member, 400, error=exc)
    sessions.sign_in(request, row)  # this browser stays signed in, in the new generation
    return RedirectResponse("/settings?done=password", status_code=303)


@for_members_form
async def save_mail_choices(request: Request, member: LocalActor, form: FormData) -> Response:
    """The kinds ticked; none ticked is a choice too (no mail but password links)."""
    kinds = [value for value in form.getlist("mail") if isinstance(value, str)]
    value = choices.stored(member.row, kinds)
    await node_of(request).store.update_account(member.row.id, mail_kinds=value)
    return RedirectResponse("/settings?done=mail", status_code=303)


@for_members_form
async def delete_account(request: Request, member: LocalActor, form: FormData) -> Response:
    password = text_field(form, "password", MAX_PASSWORD)
    try:
        await credentials.delete_own(node_of(request), member.row, password)
    except AccountError as exc:
        return _settings_page(request, member, 400, error=exc)
    sessions.sign_out(request)
    return RedirectResponse("/", status_code=303)


@for_members_form
async def move_account(request: Request, member: LocalActor, form: FormData) -> Response:
    try:
        await moving.move_own(
            node_of(request),
            member.row,
            text_field(form, "account", 400),
            text_field(form, "password", MAX_PASSWORD),
        )
    except AccountError as exc:
        return _settings_page(request, member, 400, error=exc)
    return RedirectResponse("/settings?done=moved", status_code=303)


async def reset_page(request: Request) -> Response:
    token = request.path_params["token"]
    member = await credentials.reset_target(node_of(request), token)
    if member is None:
        return error_page(request, 410, credentials.RESET_USED_UP)
    return render(request, "reset.html", token=token, username=member.username, error="")


@public_form
async def reset(request: Request, form: FormData) -> Response:
    token = request.path_params["token"]
    node = node_of(request)
    member = await credentials.reset_target(node, token)
    if member is None:
        return error_page(request, 410, credentials.RESET_USED_UP)
    try:
        row = await credentials.use_reset_link(
            node,
            token,
            text_field(form, "password", MAX_PASSWORD),
            text_field(form, "password_again", MAX_PASSWORD),
        )
    except AccountError as exc:
        context = {"token": token, "username": member.username, "error": exc}
        return render(request, "reset.html", 400, **context)
    sessions.sign_in(request, row)
    return RedirectResponse("/settings?done=password", status_code=303)


@for_members_form
async def save_profile(request: Request, member: LocalActor, form: FormData) -> Response:
    change = profiles.ProfileChange(
        display_name=text_field(form, "display_name", profiles.MAX_DISPLAY_NAME + 1),
        bio=text_field(form, "bio", profiles.MAX_BIO + 1),
        avatar=await image_field(form, "avatar"),
        remove_avatar=form.get("no_avatar") == "1",
        email=text_field(form, "email", 400),
    )
    try:
        await profiles.edit_profile(node_of(request), member.row, change)
    except AccountError as exc:
        return _settings_page(request, member, 400, error=exc)
    return RedirectResponse("/settings?done=profile", status_code=303)


FORGOT_ANSWER = N_(
    "If that account has an email address, a link to choose a new password is on its way. "
    "No mail within an hour? Ask one of the node's admins for a reset link."
)
MAX_FORGOT_PER_ADDRESS = 10


async def forgot_page(request: Request) -> Response:
    return render(request, "forgot.html", answer="")


@public_form
async def forgot(request: Request, form: FormData) -> Response:
    """The same answer whoever is asked for; at most 10 asks per address in 15 minutes."""
    node = node_of(request)
    key = f"forgot:{request.client.host if request.client else 'unknown'}"
    since = utcnow() - timedelta(minutes=15)
    if await node.store.count_login_failures(key, since) >= MAX_FORGOT_PER_ADDRESS:
        return render(request, "forgot.html", 429, answer=N_("Too many asks: wait 15 minutes."))
    await node.store.add_login_failure(key)
    username = text_field(form, "username", 64).strip().lower().lstrip("@")
    await credentials.forgot(node, username)
    return render(request, "forgot.html", answer=FORGOT_ANSWER)
