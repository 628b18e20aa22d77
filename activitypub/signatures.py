"""HTTP signatures: draft-cavage-12 as the fediverse signs, RFC 9421 as newer servers sign.

Owns signing outgoing requests, verifying incoming ones against a key found through an injected
lookup (returning who signed, or raising SignatureError with a loggable reason), the Digest
(RFC 3230) and Content-Digest (RFC 9530) body checks, and the slice of RFC 8941 structured fields
that RFC 9421 needs. Sans-I/O: the only awaits are the injected key lookups.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from string import digits
from urllib.parse import parse_qsl, quote, urlsplit

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes, PublicKeyTypes
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from activitypub.keys import PrivateKey, PublicKey

# Mastodon accepts a signature made up to an hour ahead of its clock and for five minutes plus an
# hour of skew afterwards (CLOCK_SKEW_MARGIN, app/lib/signed_request.rb).
CLOCK_SKEW = timedelta(hours=1)
MAX_FUTURE_SKEW = CLOCK_SKEW
MAX_AGE = CLOCK_SKEW + timedelta(minutes=5)

# Mastodon refuses a draft-cavage GET without `host` signed; we ask it of every request. For RFC
# 9421 Mastodon >= 4.5 requires @method and @target-uri (app/lib/signed_request.rb).
REQUIRED_HEADERS = ("(request-target)", "host")
REQUIRED_COMPONENTS = ("@method", "@target-uri")

KeyLookup = Callable[[str], Awaitable[PublicKey]]


class SignatureError(Exception):
    """A signature that cannot be accepted; `reason` is short, fixed per failure, safe to log."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# --- Signing ------------------------------------------------------------------------------------


def digest_header(body: bytes) -> str:
    return "SHA-256=" + _b64(hashlib.sha256(body).digest())


def content_digest_header(body: bytes) -> str:
    return f"sha-256=:{_b64(hashlib.sha256(body).digest())}:"


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
        "Host": _normalise_authority(parts.netloc.rpartition("@")[2], parts.scheme),
        "Date": format_datetime((now or datetime.now(UTC)).astimezone(UTC), usegmt=True),
    }
    if body or method.upper() == "POST":
        added["Digest"] = digest_header(body or b"")
    if signed_headers is None:
        signed_headers = ("(request-target)", "host", "date")
        signed_headers += ("digest",) if "Digest" in added else ()
    merged = _lower_headers(headers) | {name.lower(): value for name, value in added.items()}
    data = _cavage_string(method, _target_of(url), merged, signed_headers, {}).encode()
    signature = key.load().sign(data, padding.PKCS1v15(), hashes.SHA256())
    added["Signature"] = (
        f'keyId="{key.key_id}",algorithm="rsa-sha256",'
        f'headers="{" ".join(signed_headers)}",signature="{_b64(signature)}"'
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
    lowered = _lower_headers(headers)
    lowered["host"] = _normalise_authority(parts.netloc.rpartition("@")[2], parts.scheme)
    if components is None:
        needs_digest = bool(body) or method.upper() == "POST"
        components = ("@method", "@target-uri", *(("content-digest",) if needs_digest else ()))
    added = {}
    if "content-digest" in components:
        added["Content-Digest"] = lowered["content-digest"] = content_digest_header(body or b"")
    params: dict[str, _Bare] = {
        "created": int((created or datetime.now(UTC)).timestamp()),
        "keyid": key.key_id,
    }
    if alg is not None:
        params["alg"] = alg
    member = _InnerList([_Item(name, {}) for name in components], params)
    message = _Message(lowered, body or b"", method, _target_of(url), parts.scheme)
    signature = _sign_bytes(_load_private_key(key.pem), alg, _signature_base(message, member))
    added["Signature-Input"] = f"{label}={_serialize_inner_list(member)}"
    added["Signature"] = f"{label}=:{_b64(signature)}:"
    return added


# --- Verifying ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Message:
    headers: dict[str, str]
    body: bytes
    method: str = ""
    target: str = ""
    scheme: str = "https"
    status: int | None = None


@dataclass(frozen=True)
class _Policy:
    now: datetime
    required: Collection[str]
    digest_required: bool
    key_lookup: KeyLookup
    refetch: KeyLookup | None


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
    message = _Message(_lower_headers(headers), body, method, target, scheme)
    is_rfc9421 = "signature-input" in message.headers
    policy = _Policy(
        now=now or datetime.now(UTC),
        required=required_components if is_rfc9421 else required_headers,
        digest_required=require_digest and (bool(body) or method.upper() == "POST"),
        key_lookup=key_lookup,
        refetch=refetch,
    )
    if is_rfc9421:
        return await _verify_rfc9421(message, policy)
    return await _verify_cavage(message, policy)


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
    message = _Message(_lower_headers(headers), body, status=status)
    if "signature-input" not in message.headers:
        raise SignatureError("missing signature")
    policy = _Policy(
        now or datetime.now(UTC), (), require_digest and bool(body), key_lookup, refetch
    )
    return await _verify_rfc9421(message, policy)


async def _owner_if_valid(key_id: str, policy: _Policy, check: Callable[[PublicKey], bool]) -> str:
    key = await policy.key_lookup(key_id)
    if check(key):
        return key.owner
    if policy.refetch is not None:
        key = await policy.refetch(key_id)
        if check(key):
            return key.owner
    raise SignatureError("bad signature")


def _check_window(created: datetime, expires: datetime | None, now: datetime) -> None:
    if created - now > MAX_FUTURE_SKEW:
        raise SignatureError("date in the future")
    if now - created > MAX_AGE:
        raise SignatureError("date too old")
    # Mastodon honours `expires` with the same hour of skew (app/lib/signed_request.rb).
    if expires is not None and now - expires > CLOCK_SKEW:
        raise SignatureError("signature expired")


def _check_digest(
    value: str | None,
    *,
    covered: bool,
    required: bool,
    parse: Callable[[str], dict[str, bytes]],
    body: bytes,
) -> None:
    if value is None:
        if required or covered:
            raise SignatureError("missing digest")
        return
    if required and not covered:
        raise SignatureError("digest not signed")
    offered = [(name, digest) for name, digest in parse(value).items() if name in _DIGESTS]
    if not offered:
        raise SignatureError("unsupported digest algorithm")
    for name, digest in offered:
        if not hmac.compare_digest(_DIGESTS[name](body), digest):
            raise SignatureError("digest mismatch")


_DIGESTS: dict[str, Callable[[bytes], bytes]] = {
    "sha-256": lambda data: hashlib.sha256(data).digest(),
    "sha-512": lambda data: hashlib.sha512(data).digest(),
}


def _parse_digest(value: str) -> dict[str, bytes]:
    offered = {}
    for part in value.split(","):
        name, sep, encoded = part.strip().partition("=")
        if not sep:
            raise SignatureError("malformed digest")
        offered[name.lower()] = _b64decode(encoded, "malformed digest")
    return offered


def _parse_content_digest(value: str) -> dict[str, bytes]:
    members = _parse_dictionary(value, "malformed digest")
    return {
        name: member.value
        for name, member in members.items()
        if isinstance(member, _Item) and isinstance(member.value, bytes)
    }


# --- draft-cavage-12 ----------------------------------------------------------------------------

# algorithm parameter -> RFC 9421 algorithm name; hs2019 means "whatever the key is".
_CAVAGE_ALGORITHMS: dict[str, str | None] = {"rsa-sha256": "rsa-v1_5-sha256", "hs2019": None}
_CAVAGE_PARAM = re.compile(r'\s*([A-Za-z]+)\s*=\s*(?:"([^"]*)"|([0-9]+))\s*(?:,|$)')


async def _verify_cavage(message: _Message, policy: _Policy) -> str:
    params = _cavage_params(message.headers)
    # Absent algorithm means hs2019, whose default header list is "(created)"; rsa-sha256's is
    # "date" (draft-cavage-12 section 2.1.6 and Appendix C.1; Mastodon does the same).
    algorithm = params.get("algorithm", "hs2019")
    if algorithm not in _CAVAGE_ALGORITHMS:
        raise SignatureError("unknown algorithm")
    default = "(created)" if algorithm == "hs2019" else "date"
    signed = params.get("headers", default).lower().split()
    for name in policy.required:
        if name not in signed:
            raise SignatureError(f"header not signed: {name}")
    if algorithm != "hs2019" and {"(created)", "(expires)"} & set(signed):
        raise SignatureError("pseudo-header needs hs2019")
    _check_window(*_cavage_times(params, signed, message.headers), policy.now)
    _check_digest(
        message.headers.get("digest"),
        covered="digest" in signed,
        required=policy.digest_required,
        parse=_parse_digest,
        body=message.body,
    )
    data = _cavage_string(message.method, message.target, message.headers, signed, params)
    signature = _b64decode(params["signature"], "malformed signature header")
    alg = _CAVAGE_ALGORITHMS[algorithm]
    return await _owner_if_valid(
        params["keyId"], policy, lambda key: _verifies(key, alg, signature, data.encode())
    )


def _cavage_params(headers: Mapping[str, str]) -> dict[str, str]:
    value = headers.get("signature")
    if value is None:
        scheme, _, credentials = headers.get("authorization", "").partition(" ")
        if scheme.lower() != "signature":
            raise SignatureError("missing signature")
        value = credentials
    params: dict[str, str] = {}
    position = 0
    while position < len(value):
        match = _CAVAGE_PARAM.match(value, position)
        if match is None:
            raise SignatureError("malformed signature header")
        params[match[1]] = match[2] if match[2] is not None else match[3]
        position = match.end()
    for required in ("keyId", "signature"):
        if not params.get(required):
            raise SignatureError(f"missing parameter: {required}")
    return params


def _cavage_times(
    params: Mapping[str, str], signed: Sequence[str], headers: Mapping[str, str]
) -> tuple[datetime, datetime | None]:
    if "(created)" in signed:
        created = _from_timestamp(params.get("created"), "created")
    elif "date" in signed:
        created = _parse_http_date(headers.get("date"))
    else:
        raise SignatureError("date not signed")
    expires = params.get("expires")
    return created, None if expires is None else _from_timestamp(expires, "expires")


def _cavage_string(
    method: str,
    target: str,
    headers: Mapping[str, str],
    signed: Sequence[str],
    params: Mapping[str, str],
) -> str:
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


# --- RFC 9421 -----------------------------------------------------------------------------------


# Each label may cost a key fetch; senders (WordPress, Mastodon) send one.
_MAX_LABELS = 3


async def _verify_rfc9421(message: _Message, policy: _Policy) -> str:
    inputs = _parse_dictionary(message.headers["signature-input"], "malformed signature-input")
    signatures = _parse_dictionary(
        message.headers.get("signature", ""), "malformed signature header"
    )
    failures: list[SignatureError] = []
    for label, member in list(inputs.items())[:_MAX_LABELS]:
        try:
            return await _verify_label(message, policy, member, signatures.get(label))
        except SignatureError as error:
            failures.append(error)
    raise failures[0] if failures else SignatureError("malformed signature-input")


async def _verify_label(
    message: _Message, policy: _Policy, member: _Member, signature: _Member | None
) -> str:
    if not isinstance(member, _InnerList):
        raise SignatureError("malformed signature-input")
    if not (isinstance(signature, _Item) and isinstance(signature.value, bytes)):
        raise SignatureError("missing signature for label")
    signature_bytes = signature.value
    names = _component_names(member)
    key_id, alg = member.params.get("keyid"), member.params.get("alg")
    if not isinstance(key_id, str):
        raise SignatureError("missing parameter: keyid")
    if alg is not None and alg not in _ALGORITHM_KEYS:
        raise SignatureError("unknown algorithm")
    for name in policy.required:
        if name not in names:
            raise SignatureError(f"component not signed: {name}")
    expires = member.params.get("expires")
    _check_window(
        _from_timestamp(member.params.get("created"), "created"),
        None if expires is None else _from_timestamp(expires, "expires"),
        policy.now,
    )
    _check_digest(
        message.headers.get("content-digest"),
        covered="content-digest" in names,
        required=policy.digest_required,
        parse=_parse_content_digest,
        body=message.body,
    )
    data = _signature_base(message, member)
    algorithm = str(alg) if alg is not None else None
    return await _owner_if_valid(
        key_id, policy, lambda key: _verifies(key, algorithm, signature_bytes, data)
    )


def _component_names(member: _InnerList) -> list[str]:
    names = [item.value for item in member.items]
    serialized = [_serialize_item(item) for item in member.items]
    if not all(isinstance(name, str) and not isinstance(name, _Token) for name in names):
        raise SignatureError("malformed signature-input")
    if len(set(serialized)) != len(serialized):
        raise SignatureError("duplicate component")
    return [str(name) for name in names]


def _signature_base(message: _Message, member: _InnerList) -> bytes:
    """RFC 9421 section 2.5: one line per component, then the re-serialised parameters."""
    lines: list[str] = []
    for item in member.items:
        identifier = _serialize_item(item)
        lines.extend(f"{identifier}: {value}" for value in _component_values(message, item))
    lines.append(f'"@signature-params": {_serialize_inner_list(member)}')
    return "\n".join(lines).encode()


def _component_values(message: _Message, item: _Item) -> list[str]:
    name = str(item.value)
    allowed = {"name"} if name == "@query-param" else set()
    if set(item.params) - allowed:
        raise SignatureError(f"unsupported component parameter: {name}")
    if name == "@query-param":
        return _query_param_values(message.target, item.params.get("name"))
    if name.startswith("@"):
        value = _derived_components(message).get(name)
        if value is None:
            raise SignatureError(f"unsupported component: {name}")
        return [value]
    value = message.headers.get(name)
    if value is None:
        raise SignatureError(f"missing header: {name}")
    return [value]


def _derived_components(message: _Message) -> dict[str, str]:
    if message.status is not None:
        return {"@status": str(message.status)}
    path, _, query = message.target.partition("?")
    values = {
        "@method": message.method,
        "@scheme": message.scheme,
        "@request-target": message.target,
        "@path": path or "/",
        "@query": f"?{query}",
    }
    host = message.headers.get("host")
    if host is not None:
        authority = _normalise_authority(host, message.scheme)
        values["@authority"] = authority
        values["@target-uri"] = f"{message.scheme}://{authority}{message.target}"
    return values


def _query_param_values(target: str, name: _Bare | None) -> list[str]:
    if not isinstance(name, str):
        raise SignatureError("malformed signature-input")
    pairs = parse_qsl(target.partition("?")[2], keep_blank_values=True)
    values = [_form_encode(value) for key, value in pairs if _form_encode(key) == name]
    if not values:
        raise SignatureError(f"missing query parameter: {name}")
    return values


def _form_encode(text: str) -> str:
    # RFC 9421 section 2.2.8 re-encodes with the WHATWG form-urlencoded set, but spaces as %20.
    return quote(text, safe="*").replace("~", "%7E")


# --- Keys and algorithms ------------------------------------------------------------------------

_ALGORITHM_KEYS: dict[str, type] = {
    "rsa-v1_5-sha256": rsa.RSAPublicKey,
    "rsa-pss-sha512": rsa.RSAPublicKey,
    "ecdsa-p256-sha256": ec.EllipticCurvePublicKey,
    "ed25519": ed25519.Ed25519PublicKey,
}
_PSS_SHA512 = padding.PSS(mgf=padding.MGF1(hashes.SHA512()), salt_length=64)


def _algorithms_for(public: PublicKeyTypes, alg: str | None) -> tuple[str, ...]:
    # Without an alg, an RSA key is tried with PKCS#1 v1.5 SHA-256 (what the fediverse sends)
    # and then RSASSA-PSS SHA-512 (the RFC 9421 Appendix B examples).
    fitting = tuple(name for name, kind in _ALGORITHM_KEYS.items() if isinstance(public, kind))
    if not fitting:
        raise SignatureError("unsupported key type")
    if alg is None:
        return fitting
    if alg not in fitting:
        raise SignatureError("algorithm does not match key")
    return (alg,)


def _verifies(key: PublicKey, alg: str | None, signature: bytes, data: bytes) -> bool:
    public = _load_public_key(key.pem)
    return any(_verify_one(public, name, signature, data) for name in _algorithms_for(public, alg))


def _verify_one(public: PublicKeyTypes, alg: str, signature: bytes, data: bytes) -> bool:
    try:
        if isinstance(public, rsa.RSAPublicKey) and alg == "rsa-pss-sha512":
            public.verify(signature, data, _PSS_SHA512, hashes.SHA512())
        elif isinstance(public, rsa.RSAPublicKey):
            public.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
        elif isinstance(public, ec.EllipticCurvePublicKey):
            public.verify(_raw_to_der(signature), data, ec.ECDSA(hashes.SHA256()))
        elif isinstance(public, ed25519.Ed25519PublicKey):
            public.verify(signature, data)
        else:
            return False
    except InvalidSignature:
        return False
    return True


def _sign_bytes(private: PrivateKeyTypes, alg: str | None, data: bytes) -> bytes:
    alg = _algorithms_for(private.public_key(), alg)[0]
    if isinstance(private, rsa.RSAPrivateKey) and alg == "rsa-pss-sha512":
        return private.sign(data, _PSS_SHA512, hashes.SHA512())
    if isinstance(private, rsa.RSAPrivateKey):
        return private.sign(data, padding.PKCS1v15(), hashes.SHA256())
    if isinstance(private, ec.EllipticCurvePrivateKey):
        r, s = decode_dss_signature(private.sign(data, ec.ECDSA(hashes.SHA256())))
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")
    if isinstance(private, ed25519.Ed25519PrivateKey):
        return private.sign(data)
    raise SignatureError("unsupported key type")


def _raw_to_der(signature: bytes) -> bytes:
    # RFC 9421 section 3.3.4 sends r || s; cryptography verifies DER.
    if len(signature) != 64:
        raise InvalidSignature
    return encode_dss_signature(
        int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    )


def _load_public_key(pem: str) -> PublicKeyTypes:
    try:
        return serialization.load_pem_public_key(pem.encode("ascii"))
    except (ValueError, UnicodeEncodeError, UnsupportedAlgorithm):
        raise SignatureError("unusable key") from None


def _load_private_key(pem: str) -> PrivateKeyTypes:
    try:
        return serialization.load_pem_private_key(pem.encode("ascii"), password=None)
    except (ValueError, TypeError, UnicodeEncodeError, UnsupportedAlgorithm):
        raise SignatureError("unusable key") from None


# --- Small helpers ------------------------------------------------------------------------------

_DEFAULT_PORTS = {"http": "80", "https": "443"}


def _lower_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Lower-case names; repeated fields joined with ", " (RFC 9110 section 5.3)."""
    lowered: dict[str, str] = {}
    for name, value in headers.items():
        key = name.lower()
        lowered[key] = f"{lowered[key]}, {value.strip()}" if key in lowered else value.strip()
    return lowered


def _normalise_authority(host: str, scheme: str) -> str:
    host = host.strip().lower()
    name, sep, port = host.rpartition(":")
    return name if sep and port == _DEFAULT_PORTS.get(scheme) else host


def _target_of(url: str) -> str:
    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def _parse_http_date(value: str | None) -> datetime:
    if value is None:
        raise SignatureError("missing header: date")
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        raise SignatureError("malformed date") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _from_timestamp(value: object, name: str) -> datetime:
    if value is None:
        raise SignatureError(f"missing parameter: {name}")
    if not isinstance(value, int | str) or isinstance(value, bool):
        raise SignatureError(f"malformed parameter: {name}")
    try:
        return datetime.fromtimestamp(int(value), UTC)
    except (ValueError, OverflowError, OSError):
        raise SignatureError(f"malformed parameter: {name}") from None


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _b64decode(text: str, reason: str) -> bytes:
    try:
        return base64.b64decode(text.strip(), validate=True)
    except ValueError:
        raise SignatureError(reason) from None


# --- RFC 8941 structured fields: dictionaries, inner lists, items, parameters -------------------


class _Token(str):
    """A token, kept apart from a string so that it re-serialises unquoted."""


_Bare = bool | int | float | str | bytes


@dataclass(frozen=True)
class _Item:
    value: _Bare
    params: dict[str, _Bare]


@dataclass(frozen=True)
class _InnerList:
    items: list[_Item]
    params: dict[str, _Bare]


_Member = _Item | _InnerList

_KEY = re.compile(r"[a-z*][a-z0-9_\-.*]*")
_TOKEN = re.compile(r"[A-Za-z*][!#$%&'*+\-.^_`|~0-9A-Za-z:/]*")
_NUMBER = re.compile(r"-?[0-9]{1,15}(?:\.[0-9]{1,3})?")
_STRING = re.compile(r'"((?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\["\\])*)"')
_BYTES = re.compile(r":([A-Za-z0-9+/]*={0,2}):")
_BOOLEAN = re.compile(r"\?([01])")


def _parse_dictionary(text: str, reason: str) -> dict[str, _Member]:
    try:
        return _FieldParser(text).dictionary()
    except ValueError:
        raise SignatureError(reason) from None


class _FieldParser:
    """RFC 8941 section 4.2 parsing; raises ValueError on anything it does not accept."""

    def __init__(self, text: str) -> None:
        self.text = text.strip(" ")
        self.position = 0

    def dictionary(self) -> dict[str, _Member]:
        members: dict[str, _Member] = {}
        while self.position < len(self.text):
            key = self._match(_KEY)[0]
            if self._peek() == "=":
                self.position += 1
                members[key] = self._inner_list() if self._peek() == "(" else self._item()
            else:
                members[key] = _Item(True, self._params())
            self._skip(" \t")
            if self.position < len(self.text):
                self._expect(",")
                self._skip(" \t")
                if self.position == len(self.text):
                    raise ValueError("trailing comma")
        return members

    def _inner_list(self) -> _InnerList:
        self._expect("(")
        items: list[_Item] = []
        while True:
            self._skip(" ")
            if self._peek() == ")":
                self.position += 1
                return _InnerList(items, self._params())
            items.append(self._item())
            if self._peek() not in (" ", ")"):
                raise ValueError("unterminated inner list")

    def _item(self) -> _Item:
        return _Item(self._bare(), self._params())

    def _params(self) -> dict[str, _Bare]:
        params: dict[str, _Bare] = {}
        while self._peek() == ";":
            self.position += 1
            self._skip(" ")
            key = self._match(_KEY)[0]
            value: _Bare = True
            if self._peek() == "=":
                self.position += 1
                value = self._bare()
            params[key] = value
        return params

    def _bare(self) -> _Bare:
        first = self._peek()
        if first == '"':
            return re.sub(r'\\(["\\])', r"\1", self._match(_STRING)[1])
        if first == ":":
            return base64.b64decode(self._match(_BYTES)[1], validate=True)
        if first == "?":
            return self._match(_BOOLEAN)[1] == "1"
        if first and first in "-" + digits:
            number = self._match(_NUMBER)[0]
            return float(number) if "." in number else int(number)
        return _Token(self._match(_TOKEN)[0])

    def _match(self, pattern: re.Pattern[str]) -> re.Match[str]:
        match = pattern.match(self.text, self.position)
        if match is None:
            raise ValueError(f"unexpected input at {self.position}")
        self.position = match.end()
        return match

    def _peek(self) -> str:
        return self.text[self.position : self.position + 1]

    def _skip(self, characters: str) -> None:
        while self._peek() and self._peek() in characters:
            self.position += 1

    def _expect(self, character: str) -> None:
        if self._peek() != character:
            raise ValueError(f"expected {character!r} at {self.position}")
        self.position += 1


def _serialize_bare(value: _Bare) -> str:
    if isinstance(value, bool):
        return "?1" if value else "?0"
    if isinstance(value, _Token):
        return str(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, bytes):
        return f":{_b64(value)}:"
    if isinstance(value, int):
        return str(value)
    decimal = f"{value:.3f}".rstrip("0")
    return decimal + "0" if decimal.endswith(".") else decimal


def _serialize_params(params: Mapping[str, _Bare]) -> str:
    return "".join(
        f";{key}" if value is True else f";{key}={_serialize_bare(value)}"
        for key, value in params.items()
    )


def _serialize_item(item: _Item) -> str:
    return _serialize_bare(item.value) + _serialize_params(item.params)


def _serialize_inner_list(member: _InnerList) -> str:
    inner = " ".join(_serialize_item(item) for item in member.items)
    return f"({inner}){_serialize_params(member.params)}"
