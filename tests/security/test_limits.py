"""Caps on inbound documents: oversized, deeply nested, too many recipients, tags or
attachments, over-long ids and strings no database column can hold. Each is a clear 4xx,
refused before any fetch or signature check, and leaves nothing stored."""

from __future__ import annotations

import json
from typing import Any

import pytest

from node.federation import limits

from .conftest import BEN, SHARED_INBOX, Network, post, sign_as, stored_inbound

JSON = {"Content-Type": "application/activity+json"}


def _follow(net: Network, **extra: Any) -> dict[str, Any]:
    return {**net.mastodon.follow("alice", BEN), **extra}


async def _refused(net: Network, body: bytes, status: int = 400) -> str:
    response = await net.http.post(SHARED_INBOX, content=body, headers=JSON)
    assert response.status_code == status, response.text
    assert await stored_inbound(net) == 0
    assert await net.node.store.remote_actor(net.mastodon.actor_id("alice")) is None
    return response.text


async def test_a_body_over_one_megabyte_is_413(network: Network) -> None:
    body = json.dumps(_follow(network, pad="x" * 1_100_000)).encode()
    await _refused(network, body, 413)


async def test_a_body_over_one_megabyte_without_content_length_is_413(network: Network) -> None:
    async def chunks() -> Any:
        for _ in range(20):
            yield b" " * 100_000

    response = await network.http.post(SHARED_INBOX, content=chunks(), headers=JSON)
    assert response.status_code == 413


@pytest.mark.parametrize("depth", [limits.MAX_DEPTH + 1, 5_000, 200_000])
async def test_deeply_nested_json_is_400(network: Network, depth: int) -> None:
    nested = "[" * depth + "]" * depth
    body = json.dumps(_follow(network)).encode()[:-1] + b', "x": ' + nested.encode() + b"}"
    assert "nested deeper" in await _refused(network, body)


async def test_a_ten_thousand_recipient_activity_is_refused(network: Network) -> None:
    # Even correctly signed: the cap is checked before the signature, and refuses the whole.
    recipients = [f"https://spam.example/users/u{n}" for n in range(10_000)]
    create = network.mastodon.reply("alice", await network.post(), "hi everyone")
    create["cc"] = recipients
    request = sign_as(network.mastodon, "alice", create)
    response = await post(network, request)
    assert response.status_code == 400
    assert "too many recipients (10001 > 1000)" in response.text
    assert await stored_inbound(network) == 0


async def test_recipients_of_the_embedded_object_count_too(network: Network) -> None:
    create = network.mastodon.reply("alice", f"{BEN}/posts/x", "hi")
    create["object"]["to"] = [f"https://spam.example/u{n}" for n in range(limits.MAX_RECIPIENTS)]
    create["object"]["cc"] = ["https://spam.example/one-more"]
    assert "too many recipients" in await _refused(network, json.dumps(create).encode())


@pytest.mark.parametrize(
    ("field", "count"), [("tag", limits.MAX_TAGS + 1), ("attachment", limits.MAX_ATTACHMENTS + 1)]
)
async def test_too_many_tags_or_attachments_are_refused(
    network: Network, field: str, count: int
) -> None:
    create = network.mastodon.reply("alice", f"{BEN}/posts/x", "hi")
    create["object"][field] = [{"type": "Hashtag", "name": f"#t{n}"} for n in range(count)]
    assert f"too many {field} entries" in await _refused(network, json.dumps(create).encode())


async def test_a_list_of_a_hundred_thousand_items_is_refused(network: Network) -> None:
    body = json.dumps(_follow(network, junk=[0] * 100_000)).encode()
    assert "list longer than" in await _refused(network, body)


@pytest.mark.parametrize(
    ("patch", "reason"),
    [
        ({"id": "https://mastodon.example/" + "a" * 3000}, "id longer than 2048"),
        ({"actor": "https://" + "a" * 300 + ".example/users/x"}, "actor host longer"),
        ({"type": "https://www.w3.org/ns/activitystreams#Follow"}, "type longer than 32"),
        ({"summary": "x" * (limits.MAX_STRING_CHARS + 1)}, "string longer than"),
        ({"id": "https://mastodon.example/\u0000"}, "NUL character"),
        ({"summary": "\ud800"}, "lone surrogate"),
        ({"actor": "http://[::1/users/x"}, "actor is not a valid URL"),
    ],
)
async def test_values_no_column_can_hold_are_400(
    network: Network, patch: dict[str, str], reason: str
) -> None:
    body = json.dumps(_follow(network, **patch)).encode()
    assert reason in await _refused(network, body)


async def test_a_personal_inbox_of_no_one_is_404(network: Network) -> None:
    url = f"{SHARED_INBOX.rsplit('/', 1)[0]}/users/{'nobody' * 20}/inbox"
    request = sign_as(network.mastodon, "alice", _follow(network), url)
    response = await network.http.post(url, content=request.body, headers=request.headers)
    assert response.status_code == 404
    assert await stored_inbound(network) == 0


async def test_an_activity_at_the_caps_is_accepted(network: Network) -> None:
    # The caps refuse floods, not ordinary posts: a reply with many mentions gets through.
    post_id = await network.post()
    create = network.mastodon.reply("alice", post_id, "hello all")
    create["cc"] = [
        f"https://mastodon.example/users/u{n}" for n in range(limits.MAX_RECIPIENTS - 1)
    ]
    create["object"]["tag"] = [{"type": "Hashtag", "name": f"#t{n}"} for n in range(200)]
    response = await post(network, sign_as(network.mastodon, "alice", create))
    assert response.status_code == 202
    await network.drain()
    assert await network.node.store.note(create["object"]["id"]) is not None
