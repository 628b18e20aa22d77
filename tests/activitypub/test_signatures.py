"""HTTP signatures: the published test vectors, a round trip, each rejection reason, the auth.

Oracles: draft-cavage-http-signatures-12 Appendix C and RFC 9421 Appendix B.2 (keys in
vectors/). Hand-built draft-cavage headers use cryptography directly, not our signer.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path

import http_sf
import httpx
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from activitypub import rfc9421
from activitypub.auth import HttpSignatureAuth
from activitypub.keys import (
    PrivateKey,
    PublicKey,
    generate_private_pem,
    load_private_pem,
    public_pem_from_private,
)
from activitypub.signature_checks import Message
from activitypub.signatures import (
    KeyLookup,
    SignatureError,
    digest_header,
    http_date,
    sign_request,
    sign_request_rfc9421,
    verify_request,
    verify_response,
)

VECTORS = Path(__file__).parent / "vectors"


def read_vector(name: str) -> str:
    return (VECTORS / name).read_text()


def lookup_of(*keys: PublicKey) -> KeyLookup:
    table = {key.key_id: key for key in keys}

    async def lookup(key_id: str) -> PublicKey:
        if key_id not in table:
            raise SignatureError("key fetch failed")
        return table[key_id]

    return lookup


def signature_param(header: str) -> str:
    match = re.search(r'signature="([^"]+)"', header)
    assert match is not None
    return match[1]


# --- draft-cavage-12 Appendix C ----------------------------------------------------------------

C_OWNER = "https://example.com/actors/test"
C_PUBLIC = PublicKey("Test", C_OWNER, read_vector("draft-cavage-12-test-key.pub.pem"))
C_PRIVATE = PrivateKey("Test", read_vector("draft-cavage-12-test-key.pem"))
C_NOW = datetime(2014, 1, 5, 21, 31, 40, tzinfo=UTC)
C_TARGET = "/foo?param=value&pet=dog"
C_BODY = b'{"hello": "world"}'
C_HEADERS = {
    "Host": "example.com",
    "Date": "Sun, 05 Jan 2014 21:31:40 GMT",
    "Content-Type": "application/json",
    "Digest": "SHA-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=",
    "Content-Length": "18",
}
C_DEFAULT = (
    "SjWJWbWN7i0wzBvtPl8rbASWz5xQW6mcJmn+ibttBqtifLN7Sazz6m79cNfwwb8DMJ5cou1s7uEGKKCs+FLEEaDV5lp7"
    "q25WqS+lavg7T8hc0GppauB6hbgEKTwblDHYGEtbGmtdHgVCk9SuS13F0hZ8FD0k/5OxEPXe5WozsbM="
)
C_BASIC = (
    "qdx+H7PHHDZgy4y/Ahn9Tny9V3GP6YgBPyUXMmoxWtLbHpUnXS2mg2+SbrQDMCJypxBLSPQR2aAjn7ndmw2iicw3HMbe"
    "8VfEdKFYRqzic+efkb3nndiv/x1xSHDJWeSWkx3ButlYSuBskLu6kd9Fswtemr3lgdDEmn04swr2Os0="
)
C_ALL = (
    "vSdrb+dS3EceC9bcwHSo4MlyKS59iFIrhgYkz8+oVLEEzmYZZvRs8rgOp+63LEM3v+MFHB32NfpB2bEKBIvB1q52LaEU"
    "HFv120V01IL+TAD48XaERZFukWgHoBTLMhYS2Gb51gWxpeIq8knRmPnYePbF5MOkR0Zkly4zKH7s1dE="
)
C_CASES = [
    pytest.param(None, C_DEFAULT, id="C.1-default"),
    pytest.param("(request-target) host date", C_BASIC, id="C.2-basic"),
    pytest.param(
        "(request-target) host date content-type digest content-length", C_ALL, id="C.3-all"
    ),
]


def c_signature_header(headers_param: str | None, signature: str) -> str:
    listed = "" if headers_param is None else f'headers="{headers_param}",'
    return f'keyId="Test",algorithm="rsa-sha256",{listed}signature="{signature}"'


def test_cavage_test_key_public_half_matches_private() -> None:
    assert public_pem_from_private(C_PRIVATE.pem) == C_PUBLIC.pem


@pytest.mark.parametrize(("headers_param", "signature"), C_CASES)
async def test_verifies_draft_cavage_appendix_c_vector(
    headers_param: str | None, signature: str
) -> None:
    headers = C_HEADERS | {"Signature": c_signature_header(headers_param, signature)}

    signer = await verify_request(
        "POST",
        C_TARGET,
        headers,
        C_BODY,
        lookup_of(C_PUBLIC),
        now=C_NOW,
        required_headers=(),
        require_digest=False,
    )

    assert signer == C_OWNER


@pytest.mark.parametrize(("headers_param", "signature"), C_CASES)
def test_signing_reproduces_draft_cavage_appendix_c_signature(
    headers_param: str | None, signature: str
) -> None:
    extra = {"Content-Type": "application/json", "Content-Length": "18"}
    signed_headers = ("date",) if headers_param is None else tuple(headers_param.split())

    added = sign_request(
        "POST",
        "http://example.com" + C_TARGET,
        extra,
        C_BODY,
        C_PRIVATE,
        now=C_NOW,
        signed_headers=signed_headers,
    )

    assert {name: added[name] for name in ("Host", "Date", "Digest")} == {
        name: C_HEADERS[name] for name in ("Host", "Date", "Digest")
    }
    assert signature_param(added["Signature"]) == signature


async def test_verifies_draft_cavage_vector_sent_as_authorization_header() -> None:
    signature = c_signature_header("(request-target) host date", C_BASIC)
    headers = C_HEADERS | {"Authorization": f"Signature {signature}"}

    signer = await verify_request(
        "POST",
        C_TARGET,
        headers,
        C_BODY,
        lookup_of(C_PUBLIC),
        now=C_NOW,
        required_headers=(),
        require_digest=False,
    )

    assert signer == C_OWNER


# --- RFC 9421 Appendix B.2 ---------------------------------------------------------------------

B_NOW = datetime(2021, 4, 20, 2, 7, 55, tzinfo=UTC)
B_CREATED = datetime.fromtimestamp(1618884473, UTC)
B_TARGET = "/foo?param=Value&Pet=dog"
B_BODY = b'{"hello": "world"}'
B_HEADERS = {
    "Host": "example.com",
    "Date": "Tue, 20 Apr 2021 02:07:55 GMT",
    "Content-Type": "application/json",
    "Content-Digest": (
        "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHW"
        "XvJwew==:"
    ),
    "Content-Length": "18",
}
B_OWNER = "https://example.com/actors/rfc9421"
RSA_PSS = PublicKey("test-key-rsa-pss", B_OWNER, read_vector("rfc9421-test-key-rsa-pss.pub.pem"))
ECC_P256 = PublicKey("test-key-ecc-p256", B_OWNER, read_vector("rfc9421-test-key-ecc-p256.pub.pem"))
ED25519 = PublicKey("test-key-ed25519", B_OWNER, read_vector("rfc9421-test-key-ed25519.pub.pem"))
B_LOOKUP = lookup_of(RSA_PSS, ECC_P256, ED25519)

B21_INPUT = 'sig-b21=();created=1618884473;keyid="test-key-rsa-pss";nonce="b3k2pp5k7z-50gnwp.yemd"'
B21_SIGNATURE = (
    "sig-b21=:d2pmTvmbncD3xQm8E9ZV2828BjQWGgiwAaw5bAkgibUopemLJcWDy/lkbbHAve4cRAtx31Iq786U7it++wg"
    "GxbtRxf8Udx7zFZsckzXaJMkA7ChG52eSkFxykJeNqsrWH5S+oxNFlD4dzVuwe8DhTSja8xxbR/Z2cOGdCbzR72rgFWhz"
    "x2VjBqJzsPLMIQKhO4DGezXehhWwE56YCE+O6c0mKZsfxVrogUvA4HELjVKWmAvtl6UnCh8jYzuVG5WSb/QEVPnP5Tmc"
    "AnLH1g+s++v6d4s8m0gCw1fV5/SITLq9mhho8K3+7EPYTU8IU1bLhdxO5Nyt8C8ssinQ98Xw9Q==:"
)
B22_INPUT = (
    'sig-b22=("@authority" "content-digest" "@query-param";name="Pet");created=1618884473'
    ';keyid="test-key-rsa-pss";tag="header-example"'
)
B22_SIGNATURE = (
    "sig-b22=:LjbtqUbfmvjj5C5kr1Ugj4PmLYvx9wVjZvD9GsTT4F7GrcQEdJzgI9qHxICagShLRiLMlAJjtq6N4CDfKtj"
    "vuJyE5qH7KT8UCMkSowOB4+ECxCmT8rtAmj/0PIXxi0A0nxKyB09RNrCQibbUjsLS/2YyFYXEu4TRJQzRw1rLEuEfY17S"
    "ARYhpTlaqwZVtR8NV7+4UKkjqpcAoFqWFQh62s7Cl+H2fjBSpqfZUJcsIk4N6wiKYd4je2U/lankenQ99PZfB4jY3I5r"
    "SV2DSBVkSFsURIjYErOs0tFTQosMTAoxk//0RoKUqiYY8Bh0aaUEb0rQl3/XaVe4bXTugEjHSw==:"
)
B23_INPUT = (
    'sig-b23=("date" "@method" "@path" "@query" "@authority" "content-type" "content-digest"'
    ' "content-length");created=1618884473;keyid="test-key-rsa-pss"'
)
B23_SIGNATURE = (
    "sig-b23=:bbN8oArOxYoyylQQUU6QYwrTuaxLwjAC9fbY2F6SVWvh0yBiMIRGOnMYwZ/5MR6fb0Kh1rIRASVxFkeGt68"
    "3+qRpRRU5p2voTp768ZrCUb38K0fUxN0O0iC59DzYx8DFll5GmydPxSmme9v6ULbMFkl+V5B1TP/yPViV7KsLNmvKiLJ"
    "H1pFkh/aYA2HXXZzNBXmIkoQoLd7YfW91kE9o/CCoC1xMy7JA1ipwvKvfrs65ldmlu9bpG6A9BmzhuzF8Eim5f8ui9eH"
    "8LZH896+QIF61ka39VBrohr9iyMUJpvRX2Zbhl5ZJzSRxpJyoEZAFL2FUo5fTIztsDZKEgM4cUA==:"
)
B26_COMPONENTS = ("date", "@method", "@path", "@authority", "content-type", "content-length")
B26_INPUT = (
    'sig-b26=("date" "@method" "@path" "@authority" "content-type" "content-length")'
    ';created=1618884473;keyid="test-key-ed25519"'
)
B26_SIGNATURE = (
    "sig-b26=:wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBK"
    "RCw==:"
)
# B.2.5 (hmac-sha256 with test-shared-secret) is left out: there are no shared secrets in
# federation, so verify_request has no HMAC path to test.


@pytest.mark.parametrize(
    ("signature_input", "signature"),
    [
        pytest.param(B21_INPUT, B21_SIGNATURE, id="B.2.1-minimal-rsa-pss"),
        pytest.param(B22_INPUT, B22_SIGNATURE, id="B.2.2-selective-rsa-pss"),
        pytest.param(B23_INPUT, B23_SIGNATURE, id="B.2.3-full-rsa-pss"),
        pytest.param(B26_INPUT, B26_SIGNATURE, id="B.2.6-ed25519"),
    ],
)
async def test_verifies_rfc9421_appendix_b2_request_vector(
    signature_input: str, signature: str
) -> None:
    headers = B_HEADERS | {"Signature-Input": signature_input, "Signature": signature}

    signer = await verify_request(
        "POST",
        B_TARGET,
        headers,
        B_BODY,
        B_LOOKUP,
        now=B_NOW,
        required_components=(),
        require_digest=False,
    )

    assert signer == B_OWNER


async def test_verifies_rfc9421_appendix_b24_ecdsa_response_vector() -> None:
    headers = {
        "Date": "Tue, 20 Apr 2021 02:07:56 GMT",
        "Content-Type": "application/json",
        "Content-Digest": (
            "sha-512=:mEWXIS7MaLRuGgxOBdODa3xqM1XdEvxoYhvlCFJ41QJgJc4GTsPp29l5oGX69wWdXymyU0rjJuah"
            "q4l5aGgfLQ==:"
        ),
        "Content-Length": "23",
        "Signature-Input": (
            'sig-b24=("@status" "content-type" "content-digest" "content-length")'
            ';created=1618884473;keyid="test-key-ecc-p256"'
        ),
        "Signature": (
            "sig-b24=:wNmSUAhwb5LxtOtOpNa6W5xj067m5hFrj0XQ4fvpaCLx0NKocgPquLgyahnzDnDAUy5eCdlYUEkL"
            "Ij+32oiasw==:"
        ),
    }

    signer = await verify_response(200, headers, b'{"message": "good dog"}', B_LOOKUP, now=B_NOW)

    assert signer == B_OWNER


def test_signing_reproduces_rfc9421_appendix_b26_ed25519_signature() -> None:
    key = PrivateKey("test-key-ed25519", read_vector("rfc9421-test-key-ed25519.pem"))

    added = sign_request_rfc9421(
        "POST",
        "https://example.com" + B_TARGET,
        B_HEADERS,
        B_BODY,
        key,
        components=B26_COMPONENTS,
        created=B_CREATED,
        label="sig-b26",
    )

    assert added == {"Signature-Input": B26_INPUT, "Signature": B26_SIGNATURE}


async def test_rejects_tampered_rfc9421_vector_as_bad_signature() -> None:
    headers = B_HEADERS | {
        "Content-Type": "text/plain",
        "Signature-Input": B26_INPUT,
        "Signature": B26_SIGNATURE,
    }

    with pytest.raises(SignatureError) as raised:
        await verify_request(
            "POST",
            B_TARGET,
            headers,
            B_BODY,
            B_LOOKUP,
            now=B_NOW,
            required_components=(),
            require_digest=False,
        )

    assert raised.value.reason == "bad signature"


# --- Fresh keys: round trips and every rejection ----------------------------------------------

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
ALICE_ID = "https://remote.example/users/alice"
INBOX_URL = "https://conode.example/inbox"
BODY = json.dumps({"type": "Follow", "actor": ALICE_ID}).encode()
CONTENT_TYPE = {"Content-Type": "application/activity+json"}


@dataclass(frozen=True)
class Signer:
    private: PrivateKey
    public: PublicKey


def new_signer(key_id: str, owner: str = ALICE_ID) -> Signer:
    pem = generate_private_pem()
    return Signer(PrivateKey(key_id, pem), PublicKey(key_id, owner, public_pem_from_private(pem)))


@pytest.fixture(scope="module")
def alice() -> Signer:
    return new_signer(f"{ALICE_ID}#main-key")


@pytest.fixture(scope="module")
def mallory() -> Signer:
    return new_signer(f"{ALICE_ID}#main-key", owner="https://evil.example/users/mallory")


def signed_post(
    signer: Signer, *, now: datetime = NOW, signed_headers: Sequence[str] | None = None
) -> dict[str, str]:
    added = sign_request(
        "POST",
        INBOX_URL,
        CONTENT_TYPE,
        BODY,
        signer.private,
        now=now,
        signed_headers=signed_headers,
    )
    return CONTENT_TYPE | added


async def verify_post(
    headers: Mapping[str, str],
    lookup: KeyLookup,
    body: bytes = BODY,
    refetch: KeyLookup | None = None,
) -> str:
    return await verify_request("POST", "/inbox", headers, body, lookup, now=NOW, refetch=refetch)


async def reason_for(headers: dict[str, str], lookup: KeyLookup, body: bytes = BODY) -> str:
    with pytest.raises(SignatureError) as raised:
        await verify_post(headers, lookup, body)
    return raised.value.reason


def hand_signed(signer: Signer, lines: list[tuple[str, str]], **params: str | int) -> str:
    """A draft-cavage Signature built straight from cryptography, independent of sign_request."""
    data = "\n".join(f"{name}: {value}" for name, value in lines).encode()
    raw = load_private_pem(signer.private.pem).sign(data, padding.PKCS1v15(), hashes.SHA256())
    listed = " ".join(name for name, _ in lines)
    extra = "".join(f",{name}={value}" for name, value in params.items())
    return (
        f'keyId="{signer.private.key_id}",algorithm="hs2019",headers="{listed}"{extra},'
        f'signature="{base64.b64encode(raw).decode()}"'
    )


async def test_round_trip_with_fresh_rsa_2048_key(alice: Signer) -> None:
    headers = signed_post(alice)

    assert await verify_post(headers, lookup_of(alice.public)) == ALICE_ID
    assert 'algorithm="rsa-sha256"' in headers["Signature"]
    assert 'headers="(request-target) host date digest"' in headers["Signature"]


async def test_get_signs_request_target_host_and_date_only(alice: Signer) -> None:
    url = "https://conode.example/users/ben?page=2"
    added = sign_request("GET", url, {}, b"", alice.private, now=NOW)

    signer = await verify_request(
        "GET", "/users/ben?page=2", added, b"", lookup_of(alice.public), now=NOW
    )

    assert signer == ALICE_ID
    assert "Digest" not in added
    assert 'headers="(request-target) host date"' in added["Signature"]


def test_sign_request_puts_non_default_port_in_host(alice: Signer) -> None:
    local = sign_request("GET", "http://127.0.0.1:8000/inbox", {}, None, alice.private, now=NOW)
    default = sign_request("GET", "https://Remote.Example:443/x", {}, None, alice.private, now=NOW)

    assert (local["Host"], default["Host"]) == ("127.0.0.1:8000", "remote.example")
    assert local["Date"] == "Sat, 01 Mar 2025 12:00:00 GMT"


def test_digest_header_is_base64_sha256() -> None:
    assert digest_header(C_BODY) == C_HEADERS["Digest"]


async def test_rejects_tampered_body_as_digest_mismatch(alice: Signer) -> None:
    reason = await reason_for(signed_post(alice), lookup_of(alice.public), body=BODY + b" ")

    assert reason == "digest mismatch"


async def test_rejects_changed_signed_header_as_bad_signature(alice: Signer) -> None:
    headers = signed_post(alice) | {"Date": "Sat, 01 Mar 2025 12:00:01 GMT"}

    assert await reason_for(headers, lookup_of(alice.public)) == "bad signature"


async def test_rejects_date_older_than_max_age(alice: Signer) -> None:
    headers = signed_post(alice, now=NOW - timedelta(hours=1, minutes=6))

    assert await reason_for(headers, lookup_of(alice.public)) == "date too old"


async def test_rejects_date_more_than_an_hour_ahead(alice: Signer) -> None:
    headers = signed_post(alice, now=NOW + timedelta(hours=1, minutes=1))

    assert await reason_for(headers, lookup_of(alice.public)) == "date in the future"


async def test_accepts_dates_inside_the_window(alice: Signer) -> None:
    for skew in (timedelta(minutes=-64), timedelta(minutes=59)):
        assert await verify_post(signed_post(alice, now=NOW + skew), lookup_of(alice.public))


async def test_rejects_signature_by_another_key(alice: Signer, mallory: Signer) -> None:
    assert await reason_for(signed_post(mallory), lookup_of(alice.public)) == "bad signature"


async def test_refetches_key_once_after_rotation(alice: Signer, mallory: Signer) -> None:
    # Given a cached key that no longer matches, and a refetch that finds the new one
    fetched: list[str] = []

    async def refetch(key_id: str) -> PublicKey:
        fetched.append(key_id)
        return alice.public

    # When the request signed with the new key is verified
    signer = await verify_post(signed_post(alice), lookup_of(mallory.public), refetch=refetch)

    # Then the new key's owner is returned after exactly one refetch
    assert signer == ALICE_ID
    assert fetched == [alice.public.key_id]


async def test_refetch_that_finds_the_same_wrong_key_is_bad_signature(
    alice: Signer, mallory: Signer
) -> None:
    with pytest.raises(SignatureError) as raised:
        await verify_post(
            signed_post(alice), lookup_of(mallory.public), refetch=lookup_of(mallory.public)
        )

    assert raised.value.reason == "bad signature"


async def test_key_fetch_failure_is_reported(alice: Signer) -> None:
    assert await reason_for(signed_post(alice), lookup_of()) == "key fetch failed"


async def test_rejects_post_without_digest(alice: Signer) -> None:
    headers = signed_post(alice, signed_headers=("(request-target)", "host", "date"))
    del headers["Digest"]

    assert await reason_for(headers, lookup_of(alice.public)) == "missing digest"


async def test_rejects_post_whose_digest_is_not_signed(alice: Signer) -> None:
    headers = signed_post(alice, signed_headers=("(request-target)", "host", "date"))

    assert await reason_for(headers, lookup_of(alice.public)) == "digest not signed"


async def test_rejects_unsigned_host_when_required(alice: Signer) -> None:
    headers = signed_post(alice, signed_headers=("(request-target)", "date", "digest"))

    assert await reason_for(headers, lookup_of(alice.public)) == "header not signed: host"


async def test_rejects_request_without_signed_date(alice: Signer) -> None:
    headers = signed_post(alice, signed_headers=("(request-target)", "host", "digest"))

    assert await reason_for(headers, lookup_of(alice.public)) == "date not signed"


async def test_rejects_malformed_signature_header(alice: Signer) -> None:
    headers = signed_post(alice) | {"Signature": 'keyId="x",headers=(request-target)'}

    assert await reason_for(headers, lookup_of(alice.public)) == "malformed signature header"


async def test_rejects_unsigned_request(alice: Signer) -> None:
    headers = signed_post(alice)
    del headers["Signature"]

    assert await reason_for(headers, lookup_of(alice.public)) == "missing signature"


async def test_rejects_unknown_algorithm(alice: Signer) -> None:
    headers = signed_post(alice)
    headers["Signature"] = headers["Signature"].replace("rsa-sha256", "hmac-sha256")

    assert await reason_for(headers, lookup_of(alice.public)) == "unknown algorithm"


async def test_accepts_hs2019_with_rsa_key(alice: Signer) -> None:
    headers = signed_post(alice)
    headers["Signature"] = headers["Signature"].replace("rsa-sha256", "hs2019")

    assert await verify_post(headers, lookup_of(alice.public)) == ALICE_ID


async def test_accepts_hs2019_with_created_and_expires(alice: Signer) -> None:
    created, expires = int(NOW.timestamp()), int(NOW.timestamp()) + 300
    lines = [
        ("(request-target)", "post /inbox"),
        ("host", "conode.example"),
        ("(created)", str(created)),
        ("(expires)", str(expires)),
        ("digest", digest_header(BODY)),
    ]
    headers = {"Host": "conode.example", "Digest": digest_header(BODY)}
    headers["Signature"] = hand_signed(alice, lines, created=created, expires=expires)

    assert await verify_post(headers, lookup_of(alice.public)) == ALICE_ID


async def test_rejects_expired_hs2019_signature(alice: Signer) -> None:
    created = int((NOW - timedelta(minutes=64)).timestamp())
    lines = [
        ("(request-target)", "post /inbox"),
        ("host", "conode.example"),
        ("(created)", str(created)),
        ("digest", digest_header(BODY)),
    ]
    headers = {"Host": "conode.example", "Digest": digest_header(BODY)}
    headers["Signature"] = hand_signed(alice, lines, created=created, expires=created + 60)

    assert await reason_for(headers, lookup_of(alice.public)) == "signature expired"


async def test_rejects_created_pseudo_header_with_rsa_sha256(alice: Signer) -> None:
    created = int(NOW.timestamp())
    lines = [("(request-target)", "post /inbox"), ("host", "conode.example")]
    lines += [("(created)", str(created)), ("digest", digest_header(BODY))]
    headers = {"Host": "conode.example", "Digest": digest_header(BODY)}
    headers["Signature"] = hand_signed(alice, lines, created=created).replace(
        "hs2019", "rsa-sha256"
    )

    assert await reason_for(headers, lookup_of(alice.public)) == "pseudo-header needs hs2019"


async def test_accepts_authorization_signature_header(alice: Signer) -> None:
    headers = signed_post(alice)
    headers["Authorization"] = "Signature " + headers.pop("Signature")

    assert await verify_post(headers, lookup_of(alice.public)) == ALICE_ID


async def test_returns_owner_of_separate_key_document() -> None:
    # GoToSocial-style: the keyId is its own document whose owner is the actor.
    signer = new_signer("https://remote.example/users/alice/main-key")

    result = await verify_post(signed_post(signer), lookup_of(signer.public))

    assert signer.public.key_id != signer.public.owner
    assert result == ALICE_ID


async def test_accepts_any_header_mapping_and_case(alice: Signer) -> None:
    headers = httpx.Headers({name.upper(): value for name, value in signed_post(alice).items()})

    assert await verify_post(headers, lookup_of(alice.public)) == ALICE_ID


# --- RFC 9421 with fresh keys ------------------------------------------------------------------


def signed_post_rfc9421(
    signer: Signer,
    *,
    components: Sequence[str] | None = None,
    alg: str | None = None,
    label: str = "sig1",
    created: datetime = NOW,
) -> dict[str, str]:
    added = sign_request_rfc9421(
        "POST",
        INBOX_URL,
        CONTENT_TYPE,
        BODY,
        signer.private,
        created=created,
        components=components,
        alg=alg,
        label=label,
    )
    return CONTENT_TYPE | {"Host": "conode.example"} | added


async def test_rfc9421_round_trip_meets_default_policy(alice: Signer) -> None:
    headers = signed_post_rfc9421(alice, alg="rsa-v1_5-sha256", label="wp")

    assert await verify_post(headers, lookup_of(alice.public)) == ALICE_ID
    assert headers["Signature-Input"].startswith('wp=("@method" "@target-uri" "content-digest")')


async def test_rfc9421_rejects_tampered_body_as_digest_mismatch(alice: Signer) -> None:
    headers = signed_post_rfc9421(alice)

    assert await reason_for(headers, lookup_of(alice.public), body=b"{}") == "digest mismatch"


async def test_rfc9421_requires_target_uri(alice: Signer) -> None:
    headers = signed_post_rfc9421(alice, components=("@method", "@path", "content-digest"))

    assert await reason_for(headers, lookup_of(alice.public)) == "component not signed: @target-uri"


async def test_rfc9421_rejects_malformed_signature_input(alice: Signer) -> None:
    headers = signed_post_rfc9421(alice) | {"Signature-Input": 'sig1=("@method"'}

    assert await reason_for(headers, lookup_of(alice.public)) == "malformed signature-input"


async def test_rfc9421_requires_created(alice: Signer) -> None:
    headers = signed_post_rfc9421(alice)
    headers["Signature-Input"] = re.sub(r";created=\d+", "", headers["Signature-Input"])

    assert await reason_for(headers, lookup_of(alice.public)) == "missing parameter: created"


async def test_rfc9421_rejects_created_older_than_max_age(alice: Signer) -> None:
    headers = signed_post_rfc9421(alice, created=NOW - timedelta(hours=1, minutes=6))

    assert await reason_for(headers, lookup_of(alice.public)) == "date too old"


async def test_rfc9421_rejects_created_more_than_an_hour_ahead(alice: Signer) -> None:
    headers = signed_post_rfc9421(alice, created=NOW + timedelta(hours=1, minutes=1))

    assert await reason_for(headers, lookup_of(alice.public)) == "date in the future"


async def test_rfc9421_rejects_an_expired_signature(alice: Signer) -> None:
    headers = signed_post_rfc9421(alice)
    expired = int((NOW - timedelta(hours=1, minutes=1)).timestamp())
    headers["Signature-Input"] += f";expires={expired}"

    assert await reason_for(headers, lookup_of(alice.public)) == "signature expired"


async def test_rfc9421_accepts_created_inside_the_window(alice: Signer) -> None:
    for skew in (timedelta(minutes=-64), timedelta(minutes=59)):
        headers = signed_post_rfc9421(alice, created=NOW + skew)
        assert await verify_post(headers, lookup_of(alice.public)) == ALICE_ID


# --- HttpSignatureAuth -------------------------------------------------------------------------


async def test_auth_signs_each_send_with_a_fresh_date(alice: Signer) -> None:
    # Given a remote inbox that verifies what it receives, and a clock that moves on
    seen: list[tuple[str, str, str]] = []
    times = iter([NOW, NOW + timedelta(seconds=30)])

    async def inbox(request: httpx.Request) -> httpx.Response:
        target = request.url.raw_path.decode("ascii")
        signer = await verify_request(
            request.method,
            target,
            request.headers,
            request.content,
            lookup_of(alice.public),
            now=NOW,
        )
        seen.append((signer, request.headers["Date"], request.headers["Signature"]))
        return httpx.Response(202)

    auth = HttpSignatureAuth(alice.private, clock=lambda: next(times))
    async with httpx.AsyncClient(transport=httpx.MockTransport(inbox), auth=auth) as client:
        # When the same activity is posted twice
        for _ in range(2):
            response = await client.post(INBOX_URL, content=BODY, headers=CONTENT_TYPE)
            assert response.status_code == 202

    # Then both verify as alice, with different Dates and Signatures
    assert [signer for signer, _, _ in seen] == [ALICE_ID, ALICE_ID]
    assert seen[0][1] != seen[1][1]
    assert seen[0][2] != seen[1][2]


# --- Hostile structured fields ------------------------------------------------------------------

# Pieces of RFC 8941 syntax, so generated headers reach deep into the parser, not just its first
# character.
_FIELD_PIECES = st.sampled_from(
    [
        "sig1=",
        "(",
        ")",
        '"@method"',
        '"@target-uri"',
        '"content-digest"',
        ";created=",
        "1",
        "-",
        ".",
        "5",
        ";keyid=",
        '"k"',
        ";alg=",
        "ed25519",
        ":",
        "AAAA",
        "=",
        ",",
        " ",
        "?1",
        "*",
        '"',
        "\\",
        ";req",
        ";name=",
        "\t",
        "é",
    ]
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    signature_input=st.lists(_FIELD_PIECES, max_size=25).map("".join),
    signature=st.lists(_FIELD_PIECES, max_size=12).map("".join),
)
async def test_rfc9421_any_header_text_is_refused_with_a_reason_or_verified(
    signature_input: str, signature: str
) -> None:
    # Given headers made of structured-field fragments in any order
    headers = {"Signature-Input": signature_input, "Signature": signature, "Host": "example.com"}

    # When verifying, then the only failure is a SignatureError with a short reason
    try:
        await verify_post(headers, _refusing_lookup)
    except SignatureError as error:
        assert error.reason and len(error.reason) < 80


async def _refusing_lookup(key_id: str) -> PublicKey:
    raise SignatureError("key fetch failed")


# --- the signer's shortcuts (a delivery's cost beside the RSA operation) ---------------------


@given(
    st.datetimes(
        min_value=datetime(1971, 1, 1),
        max_value=datetime(2200, 1, 1),
        timezones=st.sampled_from([UTC, timezone(timedelta(hours=-7)), timezone(timedelta(0))]),
    )
)
def test_the_date_formatted_once_per_second_is_the_one_email_utils_formats(
    moment: datetime,
) -> None:
    assert http_date(moment) == format_datetime(moment.astimezone(UTC), usegmt=True)


def test_an_rsa_key_without_alg_signs_pkcs1v15_sha256_as_rfc9421_picks_first(
    alice: Signer,
) -> None:
    added = sign_request_rfc9421(
        "POST", "https://b.example/inbox", {}, b"{}", alice.private, label="sig1"
    )
    signature = base64.b64decode(added["Signature"].removeprefix("sig1=:").removesuffix(":"))
    headers = {"host": "b.example", "content-digest": added["Content-Digest"]}
    message = Message(headers, b"{}", "POST", "/inbox", "https")
    member = http_sf.parse(added["Signature-Input"].encode(), tltype="dictionary")["sig1"]
    base = rfc9421.signature_base(message, member)
    public = load_private_pem(alice.private.pem).public_key()
    public.verify(signature, base, padding.PKCS1v15(), hashes.SHA256())  # raises if not
