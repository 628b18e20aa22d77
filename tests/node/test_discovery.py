"""WebFinger, host-meta and NodeInfo, over HTTP through the app."""

from __future__ import annotations

import httpx
import jsonschema

from activitypub.vocab import ACTIVITY_JSON

from ..conftest import TEST_URL

HOST = "conode.example"

# The NodeInfo 2.1 rules that matter to consumers (nodeinfo.diaspora.software/schema):
# required members, the software name pattern, protocol names, non-negative usage counts.
NODEINFO_21 = {
    "type": "object",
    "additionalProperties": False,
    "required": [
        "version",
        "software",
        "protocols",
        "services",
        "openRegistrations",
        "usage",
        "metadata",
    ],
    "properties": {
        "version": {"enum": ["2.1"]},
        "software": {
            "type": "object",
            "additionalProperties": False,
            "required": ["name", "version"],
            "properties": {
                "name": {"type": "string", "pattern": "^[a-z0-9-]+$"},
                "version": {"type": "string"},
                "repository": {"type": "string"},
                "homepage": {"type": "string"},
            },
        },
        "protocols": {"type": "array", "minItems": 1, "items": {"enum": ["activitypub"]}},
        "services": {
            "type": "object",
            "additionalProperties": False,
            "required": ["inbound", "outbound"],
            "properties": {
                "inbound": {"type": "array", "items": {"type": "string"}},
                "outbound": {"type": "array", "items": {"type": "string"}},
            },
        },
        "openRegistrations": {"type": "boolean"},
        "usage": {
            "type": "object",
            "additionalProperties": False,
            "required": ["users"],
            "properties": {
                "users": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        name: {"type": "integer", "minimum": 0}
                        for name in ("total", "activeHalfyear", "activeMonth")
                    },
                },
                "localPosts": {"type": "integer", "minimum": 0},
                "localComments": {"type": "integer", "minimum": 0},
            },
        },
        "metadata": {"type": "object"},
    },
}


async def _finger(client: httpx.AsyncClient, resource: str) -> httpx.Response:
    return await client.get("/.well-known/webfinger", params={"resource": resource})


def _self_href(jrd: dict[str, object]) -> str:
    links = jrd["links"]
    assert isinstance(links, list)
    (link,) = [link for link in links if link["rel"] == "self"]
    assert link["type"] == ACTIVITY_JSON
    href = link["href"]
    assert isinstance(href, str)
    return href


async def _round_trip(client: httpx.AsyncClient, acct: str) -> str:
    """What Mastodon does: finger, fetch the actor, finger acct:preferredUsername@actor-host."""
    response = await _finger(client, acct)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/jrd+json")
    assert response.headers["access-control-allow-origin"] == "*"
    jrd = response.json()
    assert jrd["subject"] == acct
    actor_id = _self_href(jrd)
    actor = (await client.get(actor_id, headers={"Accept": ACTIVITY_JSON})).json()
    host = httpx.URL(actor["id"]).netloc.decode()
    again = await _finger(client, f"acct:{actor['preferredUsername']}@{host}")
    assert _self_href(again.json()) == actor_id
    return actor_id


async def test_webfinger_round_trips_for_a_member(client: httpx.AsyncClient) -> None:
    actor_id = await _round_trip(client, f"acct:ben@{HOST}")
    assert actor_id == f"{TEST_URL}/users/ben"


async def test_webfinger_round_trips_for_the_group_actor(client: httpx.AsyncClient) -> None:
    actor_id = await _round_trip(client, f"acct:community@{HOST}")
    assert actor_id == f"{TEST_URL}/groups/community"


async def test_webfinger_links_profile_page_and_subscribe_template(
    client: httpx.AsyncClient,
) -> None:
    jrd = (await _finger(client, f"acct:ben@{HOST}")).json()
    rels = {link["rel"]: link for link in jrd["links"]}
    assert rels["http://webfinger.net/rel/profile-page"]["href"] == f"{TEST_URL}/@ben"
    assert "{uri}" in rels["http://ostatus.org/schema/1.0/subscribe"]["template"]
    assert f"{TEST_URL}/users/ben" in jrd["aliases"]


async def test_webfinger_answers_actor_url_and_host_forms(client: httpx.AsyncClient) -> None:
    by_url = await _finger(client, f"{TEST_URL}/users/ben")
    assert _self_href(by_url.json()) == f"{TEST_URL}/users/ben"
    by_profile = await _finger(client, f"{TEST_URL}/@ben")
    assert _self_href(by_profile.json()) == f"{TEST_URL}/users/ben"
    by_host = await _finger(client, f"{TEST_URL}/")
    assert _self_href(by_host.json()) == f"{TEST_URL}/actor"


async def test_webfinger_is_case_insensitive_on_the_user(client: httpx.AsyncClient) -> None:
    response = await _finger(client, f"acct:Ben@{HOST}")
    assert _self_href(response.json()) == f"{TEST_URL}/users/ben"


async def test_webfinger_rejects_missing_and_malformed_resources(
    client: httpx.AsyncClient,
) -> None:
    assert (await client.get("/.well-known/webfinger")).status_code == 400
    assert (await _finger(client, "acct:no-at-sign")).status_code == 400
    assert (await _finger(client, "acct:@")).status_code == 400


async def test_webfinger_404s_unknown_and_foreign_accounts(client: httpx.AsyncClient) -> None:
    assert (await _finger(client, f"acct:nobody@{HOST}")).status_code == 404
    assert (await _finger(client, "acct:ben@elsewhere.example")).status_code == 404
    assert (await _finger(client, "https://elsewhere.example/users/ben")).status_code == 404


async def test_host_meta_points_at_webfinger(client: httpx.AsyncClient) -> None:
    response = await client.get("/.well-known/host-meta")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/xrd+xml")
    assert f'template="{TEST_URL}/.well-known/webfinger?resource={{uri}}"' in response.text


async def test_nodeinfo_index_links_schema_and_instance_actor(client: httpx.AsyncClient) -> None:
    index = (await client.get("/.well-known/nodeinfo")).json()
    rels = {link["rel"]: link["href"] for link in index["links"]}
    assert rels["http://nodeinfo.diaspora.software/ns/schema/2.1"] == f"{TEST_URL}/nodeinfo/2.1"
    assert rels["https://www.w3.org/ns/activitystreams#Application"] == f"{TEST_URL}/actor"


async def test_nodeinfo_document_validates_against_the_21_schema(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/nodeinfo/2.1")
    assert response.status_code == 200
    assert "nodeinfo.diaspora.software/ns/schema/2.1" in response.headers["content-type"]
    document = response.json()
    jsonschema.validate(document, NODEINFO_21)
    assert document["software"]["name"] == "conode"
    assert document["usage"]["users"]["total"] == 1  # ben; node actors are not users
    assert document["metadata"]["nodeName"] == "Riverside Timebank"
    assert document["metadata"]["groupActor"] == f"{TEST_URL}/groups/community"


def test_the_nodeinfo_schema_check_can_fail() -> None:
    bad = {"version": "2.0", "software": {"name": "Conode!"}}
    try:
        jsonschema.validate(bad, NODEINFO_21)
    except jsonschema.ValidationError:
        return
    raise AssertionError("an invalid document passed the schema")
