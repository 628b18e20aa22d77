"""RFC 9421 HTTP Message Signatures: Signature-Input labels, the signature base, verification.

Structured fields (RFC 8941) are parsed and serialised by http-sfv.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qsl, quote

from http_sfv.dictionary import Dictionary
from http_sfv.item import InnerList, Item
from http_sfv.types import Token

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


def signature_input(components: Sequence[str], params: dict[str, str | int]) -> InnerList:
    """The inner list a signer sends in Signature-Input: component names, then parameters."""
    member = InnerList([Item(name) for name in components])
    member.params.update(params)
    return member


def signature_base(message: Message, member: InnerList) -> bytes:
    """RFC 9421 section 2.5: one line per component, then the re-serialised parameters."""
    lines: list[str] = []
    for item in member:
        identifier = str(item)
        lines.extend(f"{identifier}: {value}" for value in _component_values(message, item))
    lines.append(f'"@signature-params": {member}')
    return "\n".join(lines).encode()


def parse_content_digest(value: str) -> dict[str, bytes]:
    members = _parse_dictionary(value, "malformed digest")
    return {
        name: member.value
        for name, member in members.items()
        if isinstance(member, Item) and isinstance(member.value, bytes)
    }


def _parse_dictionary(text: str, reason: str) -> dict[str, Any]:
    if not text.strip(" \t"):
        return {}  # RFC 8941 section 4.2: an empty field is an empty dictionary
    members = Dictionary()
    try:
        members.parse(text.encode("ascii"))
    except (ValueError, IndexError, UnicodeError):
        raise SignatureError(reason) from None
    return dict(members)


async def _verify_label(message: Message, policy: Policy, member: Any, signature: Any) -> str:
    if not isinstance(member, InnerList):
        raise SignatureError("malformed signature-input")
    if not (isinstance(signature, Item) and isinstance(signature.value, bytes)):
        raise SignatureError("missing signature for label")
    signature_bytes = signature.value
    names = _component_names(member)
    key_id, alg = member.params.get("keyid"), member.params.get("alg")
    if not isinstance(key_id, str):
        raise SignatureError("missing parameter: keyid")
    if alg is not None and alg not in ALGORITHM_KEYS:
        raise SignatureError("unknown algorithm")
    for name in policy.required:
        if name not in names:
            raise SignatureError(f"component not signed: {name}")
    expires = member.params.get("expires")
    check_window(
        from_timestamp(member.params.get("created"), "created"),
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


def _component_names(member: InnerList) -> list[str]:
    names = [item.value for item in member]
    serialized = [str(item) for item in member]
    if not all(isinstance(name, str) and not isinstance(name, Token) for name in names):
        raise SignatureError("malformed signature-input")
    if len(set(serialized)) != len(serialized):
        raise SignatureError("duplicate component")
    return [str(name) for name in names]


def _component_values(message: Message, item: Item) -> list[str]:
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
