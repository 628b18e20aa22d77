"""Actor documents, collections and content negotiation, over HTTP through the app."""

from __future__ import annotations

import httpx
import pytest

from activitypub.keys import load_public_pem

from ..conftest import TEST_URL

AS_LD = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.mark.parametrize("path", ["/users/ben", "/groups/community", "/actor"])
async def test_actor_id_equals_its_url_and_carries_a_valid_key(
    client: httpx.AsyncClient, path: str
) -> None:
    response = await client.get(path, headers={"Accept": "application/activity+json"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/activity+json"
    actor = response.json()
    assert actor["id"] == f"{TEST_URL}{path}"
    assert actor["publicKey"]["id"] == f"{TEST_URL}{path}#main-key"
    assert actor["publicKey"]["owner"] == actor["id"]
    assert load_public_pem(actor["publicKey"]["publicKeyPem"]).key_size == 2048
    assert actor["endpoints"]["sharedInbox"] == f"{TEST_URL}/inbox"
    for name in ("inbox", "outbox", "followers", "following", "featured"):
        assert actor[name] == f"{actor['id']}/{name}"


async def test_each_actor_has_its_own_key(client: httpx.AsyncClient) -> None:
    pems = set()
    for path in ("/users/ben", "/groups/community", "/actor"):
        actor = (await client.get(path, headers={"Accept": "application/activity+json"})).json()
        pems.add(actor["publicKey"]["publicKeyPem"])
    assert len(pems) == 3


async def test_actor_types_match_their_role(client: httpx.AsyncClient) -> None:
    accept = {"Accept": "application/activity+json"}
    assert (await client.get("/users/ben", headers=accept)).json()["type"] == "Person"
    group = (await client.get("/groups/community", headers=accept)).json()
    assert group["type"] == "Group"
    assert group["manuallyApprovesFollowers"] is False
    instance = (await client.get("/actor", headers=accept)).json()
    assert instance["type"] == "Application"
    assert instance["discoverable"] is False


async def test_instance_actor_is_served_without_a_signature(client: httpx.AsyncClient) -> None:
    response = await client.get("/actor", headers={"Accept": AS_LD})
    assert response.status_code == 200
    assert "Signature" not in response.request.headers
    assert response.json()["type"] == "Application"


@pytest.mark.parametrize(
    "accept",
    ["application/activity+json", AS_LD, "application/ld+json", "application/json, " + AS_LD],
)
async def test_json_forms_of_accept_get_activity_json(
    client: httpx.AsyncClient, accept: str
) -> None:
    response = await client.get("/users/ben", headers={"Accept": accept})
    assert response.headers["content-type"] == "application/activity+json"
    assert response.headers["vary"] == "Accept"
    assert response.json()["id"] == f"{TEST_URL}/users/ben"


@pytest.mark.parametrize("path", ["/users/ben", "/@ben", "/groups/community"])
async def test_browsers_get_html_with_an_alternate_link(
    client: httpx.AsyncClient, path: str
) -> None:
    response = await client.get(path, headers={"Accept": BROWSER})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    # Pages also vary by the session cookie (the navigation shows who is signed in).
    assert "Accept" in [part.strip() for part in response.headers["vary"].split(",")]
    assert '<link rel="alternate" type="application/activity+json"' in response.text


async def test_profile_page_shows_the_follow_handle(client: httpx.AsyncClient) -> None:
    response = await client.get("/@ben")
    assert "@ben@conode.example" in response.text


async def test_profile_url_redirects_json_clients_to_the_actor(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/@ben", headers={"Accept": "application/activity+json"})
    assert response.status_code == 302
    assert response.headers["location"] == f"{TEST_URL}/users/ben"


@pytest.mark.parametrize("name", ["outbox", "followers", "following", "featured"])
async def test_collections_are_served_and_empty(client: httpx.AsyncClient, name: str) -> None:
    response = await client.get(f"/users/ben/{name}", headers={"Accept": AS_LD})
    assert response.status_code == 200
    collection = response.json()
    assert collection["id"] == f"{TEST_URL}/users/ben/{name}"
    assert collection["type"] == "OrderedCollection"
    assert collection["totalItems"] == 0


async def test_unknown_actors_and_wrong_kinds_are_404(client: httpx.AsyncClient) -> None:
    accept = {"Accept": "application/activity+json"}
    assert (await client.get("/users/nobody", headers=accept)).status_code == 404
    assert (await client.get("/groups/ben", headers=accept)).status_code == 404
    assert (await client.get("/users/community", headers=accept)).status_code == 404
    assert (await client.get("/users/ben/likes", headers=accept)).status_code == 404
    assert (await client.get("/users/nobody")).status_code == 404


async def test_home_page_lists_members_and_group_handle(client: httpx.AsyncClient) -> None:
    response = await client.get("/")
    assert response.status_code == 200
    assert "Riverside Timebank" in response.text
    assert "@community@conode.example" in response.text
    assert "/@ben" in response.text
