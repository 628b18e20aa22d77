"""The delivery transport (httpx over aiohttp) keeps the address guard of GuardedTransport:
names are resolved by the policy's resolver and vetted at connect time, literals are vetted
before anything is sent. Real HTTP to a sink on 127.0.0.1."""

from __future__ import annotations

import httpx

from activitypub.aiohttp_transport import guarded_aiohttp_transport
from activitypub.auth import HttpSignatureAuth
from activitypub.client import (
    PRIVATE_ADDRESS_REFUSED,
    FetchPolicy,
    UnsafeTargetError,
    deliver,
    make_client,
)
from activitypub.keys import PrivateKey, PublicKey, generate_private_pem, public_pem_from_private
from tests.conftest import free_port
from tests.sink import InboxSink, serving

KEY_ID = "https://conode.example/users/ben#main-key"
BODY = b'{"id":"https://conode.example/activities/1","type":"Create"}'


def _key() -> tuple[PrivateKey, PublicKey]:
    pem = generate_private_pem()
    owner = KEY_ID.split("#")[0]
    return PrivateKey(KEY_ID, pem), PublicKey(KEY_ID, owner, public_pem_from_private(pem))


def _policy(address: str, *, private_ok: bool) -> FetchPolicy:
    async def resolver(host: str, port: int) -> list[str]:
        return [address]

    return FetchPolicy(resolver=resolver, allow_private_networks=private_ok)


async def test_a_signed_delivery_reaches_the_address_the_resolver_gave() -> None:
    private, public = _key()
    sink, port = InboxSink([public]), free_port()
    policy = _policy("127.0.0.1", private_ok=True)
    async with (
        serving(sink, port),
        make_client(policy, transport=guarded_aiohttp_transport(policy), user_agent="t") as http,
    ):
        # inbox.example has no DNS entry: only the policy's resolver can route it here
        url = f"http://inbox.example:{port}/inbox"
        result = await deliver(http, url, BODY, policy, auth=HttpSignatureAuth(private))
    assert (result.status, result.error) == (202, None)
    assert [(r.host, r.path, r.signer) for r in sink.received] == [
        (f"inbox.example:{port}", "/inbox", "https://conode.example/users/ben")
    ]


async def test_a_name_resolving_to_a_private_address_is_refused_and_nothing_sent() -> None:
    private, public = _key()
    sink, port = InboxSink([public]), free_port()
    policy = _policy("127.0.0.1", private_ok=False)
    async with (
        serving(sink, port),
        make_client(policy, transport=guarded_aiohttp_transport(policy), user_agent="t") as http,
    ):
        url = f"http://intranet.example:{port}/inbox"
        # check_url() refuses it first; the transport's own guard is the connect-time check
        result = await deliver(http, url, BODY, policy, auth=HttpSignatureAuth(private))
        transport = guarded_aiohttp_transport(policy)
        try:
            refused = await _send_directly(transport, url)
        finally:
            await transport.aclose()
    assert (result.status, result.error) == (None, PRIVATE_ADDRESS_REFUSED)
    assert refused == PRIVATE_ADDRESS_REFUSED
    assert sink.received == []


async def _send_directly(transport: object, url: str) -> str:
    """Past check_url(): the resolver alone must refuse."""
    assert isinstance(transport, httpx.AsyncBaseTransport)
    try:
        await transport.handle_async_request(httpx.Request("POST", url, content=BODY))
    except UnsafeTargetError as exc:
        return exc.reason
    return "sent"
