"""Signing in and out: a password form, rate-limited per client address and per username.

Failed attempts are counted in the database (every web process of a node sees them); after
`MAX_FAILURES_PER_ACCOUNT` for one username, or `MAX_FAILURES_PER_ADDRESS` from one address,
within `FAILURE_WINDOW`, sign-in is refused until the window has passed.
"""

from __future__ import annotations

from datetime import timedelta

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from node.accounts import sessions
from node.accounts.passwords import verify_password
from node.storage import LocalActorRow, utcnow

from .guards import public_form, text_field
from .i18n import N_
from .responses import node_of, render

FAILURE_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_ACCOUNT = 10
MAX_FAILURES_PER_ADDRESS = 30
# Checked when the username is unknown, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = (
    "$argon2id$v=19$m=65536,t=3,p=4$HjF4+E2r3831QihUg/K4rw$"
    "z2HS2d1B9CaFfK9UHjs8HDFgdq58emlF4T+KNw3FqEM"
)


def _safe_next(value: str) -> str:
    """Only a path on this site: never an open redirect to somewhere else."""
    if value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/"


def _limit_keys(request: Request, username: str) -> list[tuple[str, int]]:
    address = request.client.host if request.client else "unknown"
    return [
        (f"user:{username}", MAX_FAILURES_PER_ACCOUNT),
        (f"addr:{address}", MAX_FAILURES_PER_ADDRESS),
    ]


async def _too_many_failures(request: Request, username: str) -> bool:
    store = node_of(request).store
    since = utcnow() - FAILURE_WINDOW
    for key, limit in _limit_keys(request, username):
        if await store.count_login_failures(key, since) >= limit:
            return True
    return False


async def _check_password(request: Request, username: str, password: str) -> LocalActorRow | None:
    row = await node_of(request).store.local_actor(username) if username else None
    usable = row is not None and row.kind == "Person" and row.password_hash is not None
    usable = usable and row is not None and row.suspended_at is None
    stored_hash = row.password_hash if usable and row and row.password_hash else _DUMMY_HASH
    if verify_password(stored_hash, password) and usable:
        return row
    return None


async def _record_failure(request: Request, username: str) -> None:
    store = node_of(request).store
    await store.clear_login_failures("", before=utcnow() - FAILURE_WINDOW)  # prune old rows
    for key, _ in _limit_keys(request, username):
        await store.add_login_failure(key)


def _form(request: Request, status: int = 200, **context: object) -> Response:
    next_path = _safe_next(request.query_params.get("next", "/"))
    context.setdefault("next_path", next_path)
    context.setdefault("username", "")
    return render(request, "login.html", status_code=status, **context)


async def login_page(request: Request) -> Response:
    return _form(request)


@public_form
async def login(request: Request, form: FormData) -> Response:
    username = text_field(form, "username", 64).strip().lower().lstrip("@")
    next_path = _safe_next(text_field(form, "next", 2000))
    if await _too_many_failures(request, username):
        message = N_("Too many failed sign-ins: wait 15 minutes, then try again.")
        return _form(request, 429, error=message, username=username, next_path=next_path)
    member = await _check_password(request, username, text_field(form, "password", 1000))
    if member is None:
        await _record_failure(request, username)
        message = N_("That username and password do not match.")
        return _form(request, 401, error=message, username=username, next_path=next_path)
    sessions.sign_in(request, member)
    return RedirectResponse(next_path, status_code=303)


@public_form
async def logout(request: Request, form: FormData) -> Response:
    """Ends every session of the account, not only this cookie: a copy of it stops working."""
    seen = sessions.viewer(request)
    if seen is not None:
        await node_of(request).store.revoke_sessions(seen.member_id)
    sessions.sign_out(request)
    return RedirectResponse("/", status_code=303)
