"""HTTP hardening for every response: a strict Content-Security-Policy and its companions, and
session cookies that are HttpOnly, SameSite and (on an https node) Secure.

The policy allows no script at all and styles only from the node's own /static files, so an
injection that got past the sanitiser (node/content/html.py) still could not run; images only
from the node itself, so a page never makes a reader's browser call a third-party server
(remote images in posts are shown as links instead). Headers an endpoint sets itself are left
as they are.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'none'",
        "style-src 'self'",
        "img-src 'self'",
        "font-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    ]
)
HEADERS: dict[str, str] = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers that predate CSP 2
    "Cross-Origin-Opener-Policy": "same-origin",
}
HSTS = "max-age=31536000"  # only sent when CONODE_URL is https


def harden_cookie(value: str, *, secure: bool) -> str:
    """A Set-Cookie value with HttpOnly, SameSite=Lax and (when secure) Secure added if missing."""
    attributes = {part.strip().split("=", 1)[0].lower() for part in value.split(";")[1:]}
    if "httponly" not in attributes:
        value += "; HttpOnly"
    if "samesite" not in attributes:
        value += "; SameSite=Lax"
    if secure and "secure" not in attributes:
        value += "; Secure"
    return value


def security_headers(*, https: bool) -> dict[str, str]:
    return HEADERS | ({"Strict-Transport-Security": HSTS} if https else {})


MAX_TARGET_BYTES = 8192  # path and query; longer is no URL the node serves


def is_malformed(scope: Scope) -> bool:
    """A path or query no endpoint can use: a NUL (PostgreSQL text refuses it, a 500 before
    this check) or a length past any URL the node serves."""
    path, query = str(scope.get("path", "")), bytes(scope.get("query_string", b""))
    if len(path) + len(query) > MAX_TARGET_BYTES:
        return True
    return "\x00" in path or b"%00" in query or b"\x00" in query


class SecurityHeaders:
    """ASGI middleware adding the headers above to every HTTP response, and answering a
    malformed request target with 400 before any endpoint sees it."""

    def __init__(self, app: ASGIApp, *, https: bool) -> None:
        self.app = app
        self.https = https
        self.headers = security_headers(https=https)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if is_malformed(scope):
            refusal = PlainTextResponse("malformed request target\n", 400)
            await refusal(scope, receive, self._hardened(send))
            return
        await self.app(scope, receive, self._hardened(send))

    def _hardened(self, send: Send) -> Send:
        async def send_hardened(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.headers.items():
                    headers.setdefault(name, value)
                cookies = headers.getlist("set-cookie")
                if cookies:
                    del headers["set-cookie"]
                    for cookie in cookies:
                        headers.append("set-cookie", harden_cookie(cookie, secure=self.https))
            await send(message)

        return send_hardened
