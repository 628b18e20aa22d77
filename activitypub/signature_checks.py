"""What draft-cavage and RFC 9421 verification share: the error, the message being checked,
the clock window, body digests and the key lookup that returns who signed."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from urllib.parse import SplitResult, urlsplit

from activitypub.keys import PublicKey

# Mastodon accepts a signature made up to an hour ahead of its clock and for five minutes plus an
# hour of skew afterwards (CLOCK_SKEW_MARGIN, app/lib/signed_request.rb).
CLOCK_SKEW = timedelta(hours=1)
MAX_FUTURE_SKEW = CLOCK_SKEW
MAX_AGE = CLOCK_SKEW + timedelta(minutes=5)

KeyLookup = Callable[[str], Awaitable[PublicKey]]


class SignatureError(Exception):
    """A signature that cannot be accepted; `reason` is short, fixed per failure, safe to log."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Message:
    """A request (method, target, scheme) or a response (status) with lower-cased headers."""

    headers: dict[str, str]
    body: bytes
    method: str = ""
    target: str = ""
    scheme: str = "https"
    status: int | None = None


@dataclass(frozen=True)
class Policy:
    now: datetime
    required: Collection[str]
    digest_required: bool
    key_lookup: KeyLookup
    refetch: KeyLookup | None


async def owner_if_valid(key_id: str, policy: Policy, check: Callable[[PublicKey], bool]) -> str:
    """The key's owner when `check` accepts the key, trying a re-fetched key once (rotation)."""
    key = await policy.key_lookup(key_id)
    if check(key):
        return key.owner
    if policy.refetch is not None:
        key = await policy.refetch(key_id)
        if check(key):
            return key.owner
    raise SignatureError("bad signature")


def check_window(created: datetime, expires: datetime | None, now: datetime) -> None:
    if created - now > MAX_FUTURE_SKEW:
        raise SignatureError("date in the future")
    if now - created > MAX_AGE:
        raise SignatureError("date too old")
    # Mastodon honours `expires` with the same hour of skew (app/lib/signed_request.rb).
    if expires is not None and now - expires > CLOCK_SKEW:
        raise SignatureError("signature expired")


DIGESTS: dict[str, Callable[[bytes], bytes]] = {
    "sha-256": lambda data: hashlib.sha256(data).digest(),
    "sha-512": lambda data: hashlib.sha512(data).digest(),
}


def check_digest(
    value: str | None,
    *,
    covered: bool,
    required: bool,
    parse: Callable[[str], dict[str, bytes]],
    body: bytes,
) -> None:
    """Digest (RFC 3230) or Content-Digest (RFC 9530): present when needed, signed, matching."""
    if value is None:
        if required or covered:
            raise SignatureError("missing digest")
        return
    if required and not covered:
        raise SignatureError("digest not signed")
    offered = [(name, digest) for name, digest in parse(value).items() if name in DIGESTS]
    if not offered:
        raise SignatureError("unsupported digest algorithm")
    for name, digest in offered:
        if not hmac.compare_digest(DIGESTS[name](body), digest):
            raise SignatureError("digest mismatch")


_DEFAULT_PORTS = {"http": "80", "https": "443"}


def lower_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Lower-case names; repeated fields joined with ", " (RFC 9110 section 5.3)."""
    lowered: dict[str, str] = {}
    for name, value in headers.items():
        key = name.lower()
        lowered[key] = f"{lowered[key]}, {value.strip()}" if key in lowered else value.strip()
    return lowered


def normalise_authority(host: str, scheme: str) -> str:
    host = host.strip().lower()
    name, sep, port = host.rpartition(":")
    return name if sep and port == _DEFAULT_PORTS.get(scheme) else host


def target_of(url: str | SplitResult) -> str:
    """The request target (path and query) of `url`, or of its parts when already split."""
    parts = urlsplit(url) if isinstance(url, str) else url
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def parse_http_date(value: str | None) -> datetime:
    if value is None:
        raise SignatureError("missing header: date")
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        raise SignatureError("malformed date") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def from_timestamp(value: object, name: str) -> datetime:
    if value is None:
        raise SignatureError(f"missing parameter: {name}")
    if not isinstance(value, int | str) or isinstance(value, bool):
        raise SignatureError(f"malformed parameter: {name}")
    try:
        return datetime.fromtimestamp(int(value), UTC)
    except (ValueError, OverflowError, OSError):
        raise SignatureError(f"malformed parameter: {name}") from None


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def b64decode(text: str, reason: str) -> bytes:
    try:
        return base64.b64decode(text.strip(), validate=True)
    except ValueError:
        raise SignatureError(reason) from None
