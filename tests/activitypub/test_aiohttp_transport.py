"""The delivery path on aiohttp (Deliverer) keeps the address guard of GuardedTransport: names
are resolved by the policy's resolver and vetted at connect time, literals are vetted before
anything is sent. It signs as client.deliver() does and reports answers the same way. Real HTTP
to a sink on 127.0.0.1."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import UTC, datetime
from typing import ClassVar

import aiohttp
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.types import Receive, Scope, Send

from activitypub.aiohttp_transport import Deliverer, GuardedResolver
from activitypub.client import PRIVATE_ADDRESS_REFUSED, FetchPolicy, UnsafeTargetError
from activitypub.keys import PrivateKey, PublicKey, generate_private_pem, public_pem_from_private
from tests.conftest import free_port
from tests.sink import InboxSink, Reply, serving

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
    async with serving(sink, port), Deliverer(policy, user_agent="conode-test") as deliverer:
        # inbox.example has no DNS entry: only the policy's resolver can route it here
        url = f"http://inbox.example:{port}/inbox"
        result = await deliverer.deliver(url, BODY, private)
    assert (result.status, result.error) == (202, None)
    assert [(r.host, r.path, r.signer, r.body) for r in sink.received] == [
        (f"inbox.example:{port}", "/inbox", "https://conode.example/users/ben", BODY)
    ]
    headers = sink.received[0].headers
    assert headers["user-agent"] == "conode-test"
    assert headers["content-type"] == "application/activity+json"


async def test_a_sink_reading_only_draft_cavage_gets_a_second_knock_unless_known() -> None:
    private, public = _key()
    sink, port = InboxSink([public], accepts="draft-cavage"), free_port()
    policy = _policy("127.0.0.1", private_ok=True)
    url = f"http://inbox.example:{port}/inbox"
    async with serving(sink, port), Deliverer(policy, user_agent="t") as deliverer:
        unknown = await deliverer.deliver(url, BODY, private)
        known = await deliverer.deliver(url, BODY, private, known="draft-cavage")
    assert (unknown.status, unknown.signed_with) == (202, "draft-cavage")
    assert (known.status, known.signed_with) == (202, "draft-cavage")
    assert ["signature-input" in r.headers for r in sink.received] == [True, False, False]
    assert [r.signer is not None for r in sink.received] == [False, True, True]


async def test_the_signature_is_dated_by_the_given_moment() -> None:
    private, public = _key()
    sink, port = InboxSink([public]), free_port()
    moment = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    sink.now = moment
    policy = _policy("127.0.0.1", private_ok=True)
    async with serving(sink, port), Deliverer(policy, user_agent="t") as deliverer:
        result = await deliverer.deliver(
            f"http://127.0.0.1:{port}/inbox", BODY, private, now=moment
        )
    assert result.status == 202
    assert sink.received[0].headers["date"] == "Sun, 01 Mar 2026 12:00:00 GMT"


async def test_answers_are_reported_with_retry_after_and_an_excerpt() -> None:
    private, public = _key()
    sink, port = InboxSink([public]), free_port()
    url = f"http://127.0.0.1:{port}/inbox"
    sink.answer(url, Reply(429, {"Retry-After": "120"}), Reply(302, {"Location": "/elsewhere"}))
    policy = _policy("127.0.0.1", private_ok=True)
    async with serving(sink, port), Deliverer(policy, user_agent="t") as deliverer:
        limited = await deliverer.deliver(url, BODY, private)
        redirected = await deliverer.deliver(url, BODY, private)
    assert (limited.status, limited.error, limited.retry_after) == (429, "http 429", 120.0)
    # a redirect is reported, not followed
    assert (redirected.status, redirected.error) == (302, "http 302")
    assert [r.path for r in sink.received] == ["/inbox", "/inbox"]


async def test_a_refused_connection_is_a_failure_not_an_exception() -> None:
    private, _ = _key()
    policy = _policy("127.0.0.1", private_ok=True)
    async with Deliverer(policy, user_agent="t") as deliverer:
        result = await deliverer.deliver(f"http://127.0.0.1:{free_port()}/inbox", BODY, private)
    assert (result.status, result.error) == (None, "connect failed")


@pytest.mark.parametrize("url", ["http://intranet.example:{port}/inbox", "http://10.0.0.7/inbox"])
async def test_a_private_target_is_refused_and_nothing_sent(url: str) -> None:
    private, public = _key()
    sink, port = InboxSink([public]), free_port()
    policy = _policy("127.0.0.1", private_ok=False)
    async with serving(sink, port), Deliverer(policy, user_agent="t") as deliverer:
        result = await deliverer.deliver(url.format(port=port), BODY, private)
    assert (result.status, result.error) == (None, PRIVATE_ADDRESS_REFUSED)
    assert sink.received == []


async def test_the_resolver_alone_refuses_a_private_address_at_connect_time() -> None:
    """Past check_url(): a session on the guarded resolver never connects to it."""
    _, public = _key()
    sink, port = InboxSink([public]), free_port()
    policy = _policy("127.0.0.1", private_ok=False)
    connector = aiohttp.TCPConnector(resolver=GuardedResolver(policy))
    async with serving(sink, port), aiohttp.ClientSession(connector=connector) as session:
        with pytest.raises(UnsafeTargetError) as refused:
            await session.post(f"http://intranet.example:{port}/inbox", data=BODY)
    assert refused.value.reason == PRIVATE_ADDRESS_REFUSED
    assert sink.received == []


async def test_a_fan_out_to_one_host_looks_its_name_up_once() -> None:
    """The resolver at connect time is the check: no lookup of its own per delivery."""
    private, public = _key()
    sink, port = InboxSink([public]), free_port()
    lookups: list[str] = []

    async def resolver(host: str, port: int) -> list[str]:
        lookups.append(host)
        return ["127.0.0.1"]

    policy = FetchPolicy(resolver=resolver, allow_private_networks=True)
    async with serving(sink, port), Deliverer(policy, user_agent="t") as deliverer:
        for n in range(6):
            result = await deliverer.deliver(
                f"http://inbox.example:{port}/inbox/{n}", BODY, private
            )
            assert result.status == 202
    assert len(sink.received) == 6
    assert lookups == ["inbox.example"]


async def test_a_name_that_does_not_resolve_is_reported_and_nothing_sent() -> None:
    private, _ = _key()

    async def resolver(host: str, port: int) -> list[str]:
        return []

    policy = FetchPolicy(resolver=resolver)
    async with Deliverer(policy, user_agent="t") as deliverer:
        result = await deliverer.deliver("https://gone.example/inbox", BODY, private)
    assert (result.status, result.error) == (None, "unresolvable host")


@pytest.mark.parametrize(
    ("url", "error"),
    [
        ("ftp://inbox.example/inbox", "scheme not allowed"),
        ("http://localhost:8080/inbox", PRIVATE_ADDRESS_REFUSED),
        ("http://[::1]/inbox", PRIVATE_ADDRESS_REFUSED),
        ("http://0x7f.1/inbox", PRIVATE_ADDRESS_REFUSED),
        ("http:///inbox", "invalid url"),
    ],
)
async def test_targets_refused_before_anything_is_sent(url: str, error: str) -> None:
    private, _ = _key()
    lookups: list[str] = []

    async def resolver(host: str, port: int) -> list[str]:
        lookups.append(host)
        return ["93.184.215.14"]

    async with Deliverer(FetchPolicy(resolver=resolver), user_agent="t") as deliverer:
        result = await deliverer.deliver(url, BODY, private)
    assert (result.status, result.error) == (None, error)
    assert lookups == []


class Dripping:
    """An inbox that reads the request, answers `statuses` in turn (the last repeats), each
    after `wait` seconds, then drips its body a byte every 0.1 s for `drip` seconds; it
    records every request's headers and sets a cookie on each answer."""

    def __init__(self, *statuses: int, wait: float = 0.0, drip: float = 0.0) -> None:
        self.statuses, self.wait, self.drip = list(statuses), wait, drip
        self.headers: list[dict[str, str]] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        more = True
        while more:
            message = await receive()
            more = message.get("more_body", False)
        self.headers.append({k.decode(): v.decode() for k, v in scope["headers"]})
        status = self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]
        await asyncio.sleep(self.wait)
        cookie = (b"set-cookie", b"session=abc; Path=/")
        await send({"type": "http.response.start", "status": status, "headers": [cookie]})
        for _ in range(round(self.drip / 0.1)):
            await send({"type": "http.response.body", "body": b"x", "more_body": True})
            await asyncio.sleep(0.1)
        await send({"type": "http.response.body", "body": b""})


def _timed_policy(total: float) -> FetchPolicy:
    async def resolver(host: str, port: int) -> list[str]:
        return ["127.0.0.1"]

    return FetchPolicy(resolver=resolver, allow_private_networks=True, total_timeout=total)


async def test_an_answer_dripped_past_total_timeout_is_a_timeout() -> None:
    # Each byte comes well within read_timeout, so only the total bounds the answer
    private, _ = _key()
    inbox, port = Dripping(500, drip=3.0), free_port()
    async with serving(inbox, port), Deliverer(_timed_policy(0.8), user_agent="t") as deliverer:
        started = time.monotonic()
        result = await deliverer.deliver(f"http://inbox.example:{port}/inbox", BODY, private)
        took = time.monotonic() - started
    assert (result.status, result.error) == (None, "timeout")
    assert 0.7 < took < 2.0


async def test_both_knocks_together_stay_within_total_timeout() -> None:
    # The first knock is refused (401) after 0.6 s; the second may have only what is left of
    # 1 s, and its answer comes after another 0.6 s
    private, _ = _key()
    inbox, port = Dripping(401, 202, wait=0.6), free_port()
    async with serving(inbox, port), Deliverer(_timed_policy(1.0), user_agent="t") as deliverer:
        started = time.monotonic()
        result = await deliverer.deliver(f"http://inbox.example:{port}/inbox", BODY, private)
        took = time.monotonic() - started
    assert (result.status, result.error) == (None, "timeout")
    assert len(inbox.headers) == 2  # it did knock twice
    assert 0.9 < took < 1.5


async def test_an_inbox_that_sets_a_cookie_gets_none_back() -> None:
    private, _ = _key()
    inbox, port = Dripping(202), free_port()
    async with serving(inbox, port), Deliverer(_timed_policy(5), user_agent="t") as deliverer:
        for _ in range(2):
            result = await deliverer.deliver(f"http://inbox.example:{port}/inbox", BODY, private)
            assert result.status == 202
    assert [("cookie" in headers) for headers in inbox.headers] == [False, False]


class _WatchedKey(PrivateKey):
    """A signing key that notes which thread loads it to sign (draft-cavage signing does)."""

    threads: ClassVar[list[str]] = []

    def load(self) -> rsa.RSAPrivateKey:
        self.threads.append(threading.current_thread().name)
        return super().load()


@pytest.mark.parametrize(("signing_threads", "signed_on"), [(1, "conode-signing"), (0, "loop")])
async def test_signatures_are_made_beside_the_event_loop(
    signing_threads: int, signed_on: str
) -> None:
    private, public = _key()
    watched = _WatchedKey(private.key_id, private.pem)
    watched.threads.clear()
    sink, port = InboxSink([public], accepts="draft-cavage"), free_port()
    policy = _policy("127.0.0.1", private_ok=True)
    url = f"http://127.0.0.1:{port}/inbox"
    loop_thread = threading.current_thread().name
    async with (
        serving(sink, port),
        Deliverer(policy, user_agent="t", signing_threads=signing_threads) as deliverer,
    ):
        results = await asyncio.gather(
            *(deliverer.deliver(url, BODY, watched, known="draft-cavage") for _ in range(3))
        )
    assert [result.status for result in results] == [202, 202, 202]
    names = {"loop" if name == loop_thread else name.rsplit("_", 1)[0] for name in watched.threads}
    assert names == {signed_on}
