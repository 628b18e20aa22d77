"""Signing outgoing requests as they are sent, with double-knocking between the two schemes.

RFC 9421 is tried first (Fedify, Mastodon >= 4.5 and the WordPress plugin verify it); a server
that answers 400 or 401 is asked again with draft-cavage-12, which every fediverse server reads.
Fedify calls this "double-knocking" (fedify `sig/http.ts`, `doubleKnock`). The caller passes
what it knows of each host and reads back what each host accepted, so the second knock is paid
once per host (node/federation/knocking.py keeps that memory).
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Mapping
from datetime import UTC, datetime

import httpx

from activitypub.keys import PrivateKey
from activitypub.signatures import http_date, sign_request, sign_request_rfc9421

RFC9421 = "rfc9421"
CAVAGE = "draft-cavage"
SCHEMES = (RFC9421, CAVAGE)
# What a server says when it could not verify the signature: Mastodon answers 401, others 400.
KNOCK_AGAIN = frozenset({400, 401})
_SIGNATURE_HEADERS = ("Signature", "Signature-Input", "Content-Digest", "Digest", "Date")


def knock_order(known: str | None) -> tuple[str, ...]:
    """The schemes to try, in order: a host known to take only draft-cavage gets only that."""
    return (CAVAGE,) if known == CAVAGE else SCHEMES


def host_of_url(url: str | httpx.URL) -> str:
    """The key hosts are remembered by: the authority without user info, lower-cased."""
    try:
        netloc = httpx.URL(url).netloc.decode("ascii")
    except httpx.InvalidURL:
        return ""
    return netloc.rpartition("@")[2].lower()[:255]


def signature_headers(
    scheme: str,
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes | None,
    key: PrivateKey,
    now: datetime,
) -> dict[str, str]:
    """The headers to add to sign a request with `scheme` at moment `now`."""
    if scheme == CAVAGE:
        return sign_request(method, url, headers, body, key, now=now)
    added = sign_request_rfc9421(method, url, headers, body, key, created=now)
    # Date is not covered, but servers that log or rate requests by it expect one.
    added["Date"] = http_date(now)
    return added


def _utc_now() -> datetime:
    return datetime.now(UTC)


class HttpSignatureAuth(httpx.Auth):
    """Signs at send time, so a retry carries a fresh date and signature; knocks twice.

    Modelled on encode/httpx `_auth.py`: `requires_request_body` makes httpx read the body
    before `auth_flow` runs, so the digest covers it. `known` maps a host to the scheme it is
    known to accept; `accepted` collects, per host, the scheme a 2xx answer came back to.
    `clock` is injectable for tests.
    """

    requires_request_body = True

    def __init__(
        self,
        key: PrivateKey,
        *,
        clock: Callable[[], datetime] = _utc_now,
        known: Mapping[str, str] | None = None,
    ) -> None:
        self._key = key
        self._clock = clock
        self._known = dict(known or {})
        self.accepted: dict[str, str] = {}

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        host = host_of_url(request.url)
        for scheme in knock_order(self._known.get(host)):
            for name in _SIGNATURE_HEADERS:
                request.headers.pop(name, None)
            request.headers.update(
                signature_headers(
                    scheme,
                    request.method,
                    str(request.url),
                    request.headers,
                    request.content,
                    self._key,
                    self._clock(),
                )
            )
            response = yield request
            if response.is_success:
                self.accepted[host] = scheme
            if response.status_code not in KNOCK_AGAIN:
                return
