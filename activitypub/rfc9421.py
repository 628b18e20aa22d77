"""RFC 9421 HTTP Message Signatures: Signature-Input labels, the signature base, verification.

Structured fields (RFC 8941/9651) are parsed and serialised by http-sf: a dictionary member is a
(value, parameters) tuple, and an inner list's value is a list of such tuples.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any, cast
from urllib.parse import parse_qsl, quote

import http_sf
from http_sf.innerlist import ser_innerlist  # http_sf.ser() takes a lone inner list for an item
from http_sf.item import ser_item

from activitypub.algorithms import ALGORITHM_KEYS, verifies
from activitypub.signature_checks import (
    Message,
    Policy,
    SignatureError,
    check_digest,
    check_window,
    from_timestamp,
    normalise_authority,
    owner_if_valid,
)

# http-sf's shapes, as we use them: an item or component is (value, parameters); an inner list is
# (list of items, parameters). Parsed input is checked with isinstance before use.
Component = tuple[Any, dict[str, Any]]
Member = tuple[list[Component], dict[str, Any]]

# Each label may cost a key fetch; senders (WordPress, Mastodon) send one.
_MAX_LABELS = 3


async def verify(message: Message, policy: Policy) -> str:
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


def signature_input(components: Sequence[str], params: dict[str, str | int]) -> Member:
    """The inner list a signer sends in Signature-Input: component names, then parameters."""
    return ([(name, {}) for name in components], dict(params))


def serialise(member: Member) -> str:
    return ser_innerlist(cast(Any, member))


@functools.lru_cache(maxsize=256)
def serialised_input(components: tuple[str, ...], params: tuple[tuple[str, str | int], ...]) -> str:
    """serialise(signature_input(...)), remembered: a signer sends the same one for every
    request of the same second and key, and http-sf serialises a string one character at a
    time (it was a fifth of a delivery's cost beside the RSA operation)."""
    return serialise(signature_input(components, dict(params)))


def signature_base(message: Message, member: Member, *, serialised: str | None = None) -> bytes:
    """RFC 9421 section 2.5: one line per component, then the re-serialised parameters
    (`serialised`: serialise(member), when the caller has it already)."""
    lines: list[str] = []
    derived: dict[str, str] = {}  # the derived components, worked out once if any is signed
    for item in member[0]:
        identifier = _identifier(item)
        values = _component_values(message, item, derived)
        lines.extend(f"{identifier}: {value}" for value in values)
    lines.append(f'"@signature-params": {serialised or serialise(member)}')
    return "\n".join(lines).encode()


def _identifier(item: Component) -> str:
    name, params = item
    # exactly str: http-sf's Token is a str too, and serialises differently
    return _plain_identifier(name) if type(name) is str and not params else ser_item(item)


@functools.lru_cache(maxsize=64)
def _plain_identifier(name: str) -> str:
    return ser_item((name, {}))


def parse_content_digest(value: str) -> dict[str, bytes]:
    members = _parse_dictionary(value, "malformed digest")
    return {name: member[0] for name, member in members.items() if isinstance(member[0], bytes)}


def _parse_dictionary(text: str, reason: str) -> dict[str, Any]:
    if not text.strip(" \t"):
        return {}  # RFC 8941 section 4.2: an empty field is an empty dictionary
    try:
        members = http_sf.parse(text.encode("ascii"), tltype="dictionary")
    except (http_sf.StructuredFieldError, ValueError, IndexError, UnicodeError):
        raise SignatureError(reason) from None
    assert isinstance(members, dict)
    return members


async def _verify_label(message: Message, policy: Policy, member: Any, signature: Any) -> str:
    if not (isinstance(member, tuple) and isinstance(member[0], list)):
        raise SignatureError("malformed signature-input")
    if not (isinstance(signature, tuple) and isinstance(signature[0], bytes)):
        raise SignatureError("missing signature for label")
    signature_bytes = signature[0]
    names = _component_names(member)
    params = member[1]
    key_id, alg = params.get("keyid"), params.get("alg")
    if not isinstance(key_id, str):
        raise SignatureError("missing parameter: keyid")
    if alg is not None and not (isinstance(alg, str) and alg in ALGORITHM_KEYS):
        raise SignatureError("unknown algorithm")
    for name in policy.required:
        if name not in names:
            raise SignatureError(f"component not signed: {name}")
    expires = params.get("expires")
    check_window(
        from_timestamp(params.get("created"), "created"),
        None if expires is None else from_timestamp(expires, "expires"),
        policy.now,
    )
    check_digest(
        message.headers.get("content-digest"),
        covered="content-digest" in names,
        required=policy.digest_required,
        parse=parse_content_digest,
        body=message.body,
    )
    data = signature_base(message, member)
    algorithm = str(alg) if alg is not None else None
    return await owner_if_valid(
        key_id, policy, lambda key: verifies(key, algorithm, signature_bytes, data)
    )


def _component_names(member: Member) -> list[str]:
    names = [item[0] for item in member[0]]
    serialized = [ser_item(item) for item in member[0]]
    # a Token is not a str in http-sf: component names must be strings
    if not all(isinstance(name, str) for name in names):
        raise SignatureError("malformed signature-input")
    if len(set(serialized)) != len(serialized):
        raise SignatureError("duplicate component")
    return [str(name) for name in names]


def _component_values(message: Message, item: Component, derived: dict[str, str]) -> list[str]:
    name, params = str(item[0]), item[1]
    if params and set(params) - ({"name"} if name == "@query-param" else set()):
        raise SignatureError(f"unsupported component parameter: {name}")
    if name == "@query-param":
        return _query_param_values(message.target, params.get("name"))
    if name.startswith("@"):
        if not derived:
            derived.update(_derived_components(message))
        value = derived.get(name)
        if value is None:
            raise SignatureError(f"unsupported component: {name}")
        return [value]
    value = message.headers.get(name)
    if value is None:
        raise SignatureError(f"missing header: {name}")
    return [value]


def _derived_components(message: Message) -> dict[str, str]:
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
        authority = normalise_authority(host, message.scheme)
        values["@authority"] = authority
        values["@target-uri"] = f"{message.scheme}://{authority}{message.target}"
    return values


def _query_param_values(target: str, name: object) -> list[str]:
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
