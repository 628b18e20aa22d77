"""An httpx.Auth that signs each outgoing request with an actor's key as it is sent."""

from __future__ import annotations

from collections.abc import Callable, Generator
from datetime import UTC, datetime

import httpx

from activitypub.keys import PrivateKey
from activitypub.signatures import sign_request


def _utc_now() -> datetime:
    return datetime.now(UTC)


class HttpSignatureAuth(httpx.Auth):
    """draft-cavage-12 signing at send time, so a retry carries a fresh Date and Signature.

    Modelled on encode/httpx `_auth.py`: `requires_request_body` makes httpx read the body
    before `auth_flow` runs, so the Digest covers it. `clock` is injectable for tests.
    """

    requires_request_body = True

    def __init__(self, key: PrivateKey, *, clock: Callable[[], datetime] = _utc_now) -> None:
        self._key = key
        self._clock = clock

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        signed = sign_request(
            request.method,
            str(request.url),
            request.headers,
            request.content,
            self._key,
            now=self._clock(),
        )
        request.headers.update(signed)
        yield request
