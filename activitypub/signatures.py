"""HTTP signatures: draft-cavage-12 as the fediverse signs, RFC 9421 as newer servers sign.

The public surface: signing outgoing requests, and verifying incoming ones against a key found
through an injected lookup (returning who signed, or raising SignatureError with a loggable
reason), with the Digest (RFC 3230) and Content-Digest (RFC 9530) body checks. The two schemes
live in cavage.py and rfc9421.py. Sans-I/O: the only awaits are the injected key lookups.
"""

from __future__ import annotations

import functools
import hashlib
import math
from collections.abc import Collection, Mapping, Sequence
from datetime import UTC, datetime
from email.utils import format_datetime
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from activitypub import cavage, rfc9421
from activitypub.algorithms import load_private_key, sign_bytes
from activitypub.keys import PrivateKey
from activitypub.signature_checks import (
    CLOCK_SKEW,
    MAX_AGE,
    MAX_FUTURE_SKEW,
    KeyLookup,
    Message,
    Policy,
    SignatureError,
    b64,
    lower_headers,
    normalise_authority,
    target_of,
)

__all__ = [
    "CLOCK_SKEW",
    "MAX_AGE",
    "MAX_FUTURE_SKEW",
    "REQUIRED_COMPONENTS",
    "REQUIRED_HEADERS",
    "KeyLookup",
    "SignatureError",
    "content_digest_header",
    "digest_header",
    "sign_request",
    "sign_request_rfc9421",
    "verify_request",
    "verify_response",
]

# Mastodon refuses a draft-cavage GET without `host` signed; we ask it of every request. For RFC
# 9421 Mastodon >= 4.5 requires @method and @target-uri (app/lib/signed_request.rb).
REQUIRED_HEADERS = ("(request-target)", "host")
REQUIRED_COMPONENTS = ("@method", "@target-uri")


@functools.lru_cache(maxsize=4)
def _http_date_of(seconds: int) -> str:
    return format_datetime(datetime.fromtimestamp(seconds, UTC), usegmt=True)


def http_date(moment: datetime) -> str:
    """The HTTP Date of `moment` (whole seconds), formatted once per second: email.utils
    builds it field by field, and every delivery of a fan-out in that second sends the same."""
    return _http_date_of(math.floor(moment.timestamp()))


def digest_header(body: bytes) -> str:
    return "SHA-256=" + b64(hashlib.sha256(body).digest())


def content_digest_header(body: bytes) -> str:
    return f"sha-256=:{b64(hashlib.sha256(body).digest())}:"


def sign_request(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes | None,
    key: PrivateKey,
    *,
    now: datetime | None = None,
    signed_headers: Sequence[str] | None = None,
) -> dict[str, str]:
    """Return the Host, Date, Digest (for a body or a POST) and Signature headers to add.

    `signed_headers` overrides the default list, "(request-target) host date [digest]".
    """
    parts = urlsplit(url)
    added = {
        "Host": normalise_authority(parts.netloc.rpartition("@")[2], parts.scheme),
        "Date": http_date(now or datetime.now(UTC)),
    }
    if body or method.upper() == "POST":
        added["Digest"] = digest_header(body or b"")
    if signed_headers is None:
        signed_headers = ("(request-target)", "host", "date")
        signed_headers += ("digest",) if "Digest" in added else ()
    merged = lower_headers(headers) | {name.lower(): value for name, value in added.items()}
    data = cavage.signing_string(method, target_of(parts), merged, signed_headers, {}).encode()
    signature = key.load().sign(data, padding.PKCS1v15(), hashes.SHA256())
    added["Signature"] = (
        f'keyId="{key.key_id}",algorithm="rsa-sha256",'
        f'headers="{" ".join(signed_headers)}",signature="{b64(signature)}"'
    )
    return added


def sign_request_rfc9421(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes | None,
    key: PrivateKey,
    *,
    components: Sequence[str] | None = None,
    created: datetime | None = None,
    label: str = "sig1",
    alg: str | None = None,
) -> dict[str, str]:
    """Return Signature-Input and Signature (and Content-Digest when covered) to add.

    The key may be RSA, ECDSA P-256 or Ed25519; `alg` is only sent when given.
    """
    parts = urlsplit(url)
    lowered = lower_headers(headers)
    lowered["host"] = normalise_authority(parts.netloc.rpartition("@")[2], parts.scheme)
    if components is None:
        needs_digest = bool(body) or method.upper() == "POST"
        components = ("@method", "@target-uri", *(("content-digest",) if needs_digest else ()))
    added = {}
    if "content-digest" in components:
        added["Content-Digest"] = lowered["content-digest"] = content_digest_header(body or b"")
    params: dict[str, str | int] = {
        "created": int((created or datetime.now(UTC)).timestamp()),
        "keyid": key.key_id,
    }
    if alg is not None:
        params["alg"] = alg
    member = rfc9421.signature_input(components, params)
    serialised = rfc9421.serialised_input(tuple(components), tuple(params.items()))
    message = Message(lowered, body or b"", method, target_of(parts), parts.scheme)
    base = rfc9421.signature_base(message, member, serialised=serialised)
    signature = sign_bytes(load_private_key(key.pem), alg, base)
    added["Signature-Input"] = f"{label}={serialised}"
    added["Signature"] = f"{label}=:{b64(signature)}:"
    return added


async def verify_request(
    method: str,
    target: str,
    headers: Mapping[str, str],
    body: bytes,
    key_lookup: KeyLookup,
    *,
    now: datetime | None = None,
    refetch: KeyLookup | None = None,
    scheme: str = "https",
    required_headers: Collection[str] = REQUIRED_HEADERS,
    required_components: Collection[str] = REQUIRED_COMPONENTS,
    require_digest: bool = True,
) -> str:
    """Check a request's signature and return the signer's actor id (the key's `owner`).

    `target` is the path and query as received. RFC 9421 is used when Signature-Input is
    present, draft-cavage otherwise. `key_lookup` must only return a key its owner claims.
    When the key does not verify and `refetch` is given, the key is fetched again once, in case
    it was rotated. `now` must be timezone-aware. Raises SignatureError.
    """
    message = Message(lower_headers(headers), body, method, target, scheme)
    is_rfc9421 = "signature-input" in message.headers
    policy = Policy(
        now=now or datetime.now(UTC),
        required=required_components if is_rfc9421 else required_headers,
        digest_required=require_digest and (bool(body) or method.upper() == "POST"),
        key_lookup=key_lookup,
        refetch=refetch,
    )
    if is_rfc9421:
        return await rfc9421.verify(message, policy)
    return await cavage.verify(message, policy)


async def verify_response(
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    key_lookup: KeyLookup,
    *,
    now: datetime | None = None,
    refetch: KeyLookup | None = None,
    require_digest: bool = True,
) -> str:
    """Check an RFC 9421 signed response (components such as @status) and return the signer."""
    message = Message(lower_headers(headers), body, status=status)
    if "signature-input" not in message.headers:
        raise SignatureError("missing signature")
    policy = Policy(
        now or datetime.now(UTC), (), require_digest and bool(body), key_lookup, refetch
    )
    return await rfc9421.verify(message, policy)
