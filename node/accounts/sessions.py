"""Sign-in sessions kept in signed cookies, and the CSRF token every form carries.

The cookie is Starlette's `SessionMiddleware` (itsdangerous-signed JSON, HttpOnly,
SameSite=Lax, Secure when CONODE_URL is https). Its key is derived from the node secret
(keys/node.secret), so every web process of a node accepts the same cookies and nothing new has
to be configured; the middleware is built on the first request, once the lifespan has loaded
the secret. The cookie holds only a member's row id and name, the account's session
generation and the CSRF token: it is signed, not encrypted, so nothing else goes in it.

A signed cookie cannot be taken back, so the server decides whether it still counts: every
request with a session is checked against the account's row (`SessionCheck`), and a cookie
from an older session generation (signed out, suspended, deleted) is emptied on the spot.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from node.storage import LocalActorRow

COOKIE_NAME = "conode_session"
# Public, cacheable files: no session, so no Set-Cookie lands in a shared cache with them.
SESSIONLESS_PREFIXES = ("/static/", "/media/", "/avatars/", "/badge.svg")
MAX_AGE_SECONDS = 14 * 24 * 3600
_KEY_PURPOSE = b"conode session cookie v1"
UNREAD_KEY = "conode.unread"  # the signed-in member's unread notifications, for the header
LANGUAGE_KEY = "conode.member_language"  # the language they chose for the pages, if any


def cookie_key(node_secret: bytes) -> str:
    """A key for this one purpose, so the sealing secret itself never signs anything else."""
    return hmac.new(node_secret, _KEY_PURPOSE, hashlib.sha256).hexdigest()


class NodeSessions:
    """ASGI middleware: `SessionMiddleware` keyed by the node secret of the running app."""

    def __init__(self, app: ASGIApp, *, https_only: bool) -> None:
        self.app = app
        self.https_only = https_only
        self._inner: SessionMiddleware | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(SESSIONLESS_PREFIXES):
            await self.app(scope, receive, send)
            return
        if self._inner is None:
            secret: bytes = scope["app"].state.node.secret
            self._inner = SessionMiddleware(
                SessionCheck(self.app),
                secret_key=cookie_key(secret),
                session_cookie=COOKIE_NAME,
                max_age=MAX_AGE_SECONDS,
                same_site="lax",
                https_only=self.https_only,
            )
        await self._inner(scope, receive, send)


def still_valid(session: dict[str, object], row: LocalActorRow | None) -> bool:
    """The cookie's member is this account, of this session generation, and may sign in."""
    return (
        row is not None
        and row.kind == "Person"
        and row.username == session.get("name")
        and row.session_generation == session.get("gen")
        and row.suspended_at is None
        and row.deleted_at is None
    )


class SessionCheck:
    """Inside `SessionMiddleware`: empties a revoked session and refreshes the roles the
    pages show (permissions themselves are read from the database by node/web/guards.py)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        session: dict[str, object] = scope["session"]
        member_id = session.get("member")
        if isinstance(member_id, int):
            row = await scope["app"].state.node.store.local_actor_by_row_id(member_id)
            if not still_valid(session, row):
                session.clear()
            else:
                if session.get("roles") != roles_of(row):
                    session["roles"] = roles_of(row)
                store = scope["app"].state.node.store
                scope[UNREAD_KEY] = await store.count_unread_notifications(member_id)
                scope[LANGUAGE_KEY] = row.language
        await self.app(scope, receive, send)


def roles_of(row: LocalActorRow) -> list[str]:
    if row.is_admin:
        return ["admin", "moderator"]
    return ["moderator"] if row.is_moderator else []


@dataclass(frozen=True)
class Viewer:
    """Who is looking at a page, as the checked cookie says (for display; permissions use
    the DB)."""

    member_id: int
    username: str
    moderator: bool
    admin: bool = False
    unread: int = 0  # notifications not yet seen


def viewer(request: Request) -> Viewer | None:
    if "session" not in request.scope:
        return None
    session = request.session
    member_id, username = session.get("member"), session.get("name")
    if not isinstance(member_id, int) or not isinstance(username, str):
        return None
    roles = session.get("roles") or []
    unread = request.scope.get(UNREAD_KEY, 0)
    return Viewer(member_id, username, "moderator" in roles, "admin" in roles, unread)


def member_language(request: Request) -> str | None:
    """The language the signed-in member chose for the pages (node/web/i18n.py), or None."""
    language = request.scope.get(LANGUAGE_KEY)
    return language if isinstance(language, str) else None


def sign_in(request: Request, member: LocalActorRow) -> None:
    """A fresh session: nothing from before signing in carries over (no fixation)."""
    request.session.clear()
    request.session.update(
        member=member.id,
        name=member.username,
        roles=roles_of(member),
        gen=member.session_generation,
        csrf=secrets.token_urlsafe(32),
    )


def sign_out(request: Request) -> None:
    request.session.clear()


def csrf_token(request: Request) -> str:
    """The session's CSRF token, created (and the cookie set) the first time a form needs it."""
    token = request.session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


def csrf_matches(request: Request, submitted: object) -> bool:
    expected = request.session.get("csrf") if "session" in request.scope else None
    if not isinstance(expected, str) or not isinstance(submitted, str):
        return False
    return hmac.compare_digest(expected.encode(), submitted.encode())
