"""draft-cavage-http-signatures-12, the signatures the fediverse sends: the Signature header's
parameters, the signing string, and verification."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime

from activitypub.algorithms import verifies
from activitypub.signature_checks import (
    Message,
    Policy,
    SignatureError,
    b64decode,
    check_digest,
    check_window,
    from_timestamp,
    owner_if_valid,
    parse_http_date,
)

# algorithm parameter -> RFC 9421 algorithm name; hs2019 means "whatever the key is".
_ALGORITHMS: dict[str, str | None] = {"rsa-sha256": "rsa-v1_5-sha256", "hs2019": None}
_PARAM = re.compile(r'\s*([A-Za-z]+)\s*=\s*(?:"([^"]*)"|([0-9]+))\s*(?:,|$)')


async def verify(message: Message, policy: Policy) -> str:
    params = _params(message.headers)
    # Absent algorithm means hs2019, whose default header list is "(created)"; rsa-sha256's is
    # "date" (draft-cavage-12 section 2.1.6 and Appendix C.1; Mastodon does the same).
    algorithm = params.get("algorithm", "hs2019")
    if algorithm not in _ALGORITHMS:
        raise SignatureError("unknown algorithm")
    default = "(created)" if algorithm == "hs2019" else "date"
    signed = params.get("headers", default).lower().split()
    for name in policy.required:
        if name not in signed:
            raise SignatureError(f"header not signed: {name}")
    if algorithm != "hs2019" and {"(created)", "(expires)"} & set(signed):
        raise SignatureError("pseudo-header needs hs2019")
    check_window(*_times(params, signed, message.headers), policy.now)
    check_digest(
        message.headers.get("digest"),
        covered="digest" in signed,
        required=policy.digest_required,
        parse=_parse_digest,
        body=message.body,
    )
    data = signing_string(message.method, message.target, message.headers, signed, params)
    signature = b64decode(params["signature"], "malformed signature header")
    alg = _ALGORITHMS[algorithm]
    return await owner_if_valid(
        params["keyId"], policy, lambda key: verifies(key, alg, signature, data.encode())
    )


def signing_string(
    method: str,
    target: str,
    headers: Mapping[str, str],
    signed: Sequence[str],
    params: Mapping[str, str],
) -> str:
    """draft-cavage-12 section 2.3: one `name: value` line per signed header."""
    lines = []
    for name in signed:
        if name == "(request-target)":
            value: str | None = f"{method.lower()} {target}"
        elif name in ("(created)", "(expires)"):
            value = params.get(name[1:-1])
            if value is None:
                raise SignatureError(f"missing parameter: {name[1:-1]}")
        else:
            value = headers.get(name)
            if value is None:
                raise SignatureError(f"missing header: {name}")
        lines.append(f"{name}: {value}")
    return "\n".join(lines)


def _params(headers: Mapping[str, str]) -> dict[str, str]:
    value = headers.get("signature")
    if value is None:
        scheme, _, credentials = headers.get("authorization", "").partition(" ")
        if scheme.lower() != "signature":
            raise SignatureError("missing signature")
        value = credentials
    params: dict[str, str] = {}
    position = 0
    while position < len(value):
        match = _PARAM.match(value, position)
        if match is None:
            raise SignatureError("malformed signature header")
        params[match[1]] = match[2] if match[2] is not None else match[3]
        position = match.end()
    for required in ("keyId", "signature"):
        if not params.get(required):
            raise SignatureError(f"missing parameter: {required}")
    return params


def _times(
    params: Mapping[str, str], signed: Sequence[str], headers: Mapping[str, str]
) -> tuple[datetime, datetime | None]:
    if "(created)" in signed:
        created = from_timestamp(params.get("created"), "created")
    elif "date" in signed:
        created = parse_http_date(headers.get("date"))
    else:
        raise SignatureError("date not signed")
    expires = params.get("expires")
    return created, None if expires is None else from_timestamp(expires, "expires")


def _parse_digest(value: str) -> dict[str, bytes]:
    offered = {}
    for part in value.split(","):
        name, sep, encoded = part.strip().partition("=")
        if not sep:
            raise SignatureError("malformed digest")
        offered[name.lower()] = b64decode(encoded, "malformed digest")
    return offered
