"""The operator's federation commands (`post`, `follow`, `reply`, `comments`, `block`,
`reports`, `log`), run as subprocesses against a real `conode serve` on a loopback port.

What arrives from the fediverse comes from `Remote`: a one-person server on another loopback
port that serves rita's actor document, signs what she sends (draft-cavage, as Mastodon does)
and verifies what the node delivers to her before counting it.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from activitypub import keys
from activitypub.keys import PrivateKey, PublicKey
from activitypub.signatures import SignatureError, sign_request, verify_request
from node.storage import block_list

from ..conftest import free_port
from ..processes import (
    ServedNode,
    conode,
    fresh_database,
    init_node,
    node_env,
    wait_until,
)

PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
AS_CONTEXT = "https://www.w3.org/ns/activitystreams"


# --- a remote server with one member, rita ----------------------------------------------------


@dataclass
class Remote:
    url: str
    private_pem: str
    objects: dict[str, dict[str, Any]] = field(default_factory=dict)  # served by path
    received: list[dict[str, Any]] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def host(self) -> str:
        return self.url.removeprefix("http://")

    @property
    def actor_id(self) -> str:
        return f"{self.url}/users/rita"

    def actor(self) -> dict[str, Any]:
        return {
            "@context": [AS_CONTEXT, "https://w3id.org/security/v1"],
            "id": self.actor_id,
            "type": "Person",
            "preferredUsername": "rita",
            "name": "Rita",
            "inbox": f"{self.actor_id}/inbox",
            "outbox": f"{self.actor_id}/outbox",
            "followers": f"{self.actor_id}/followers",
            "endpoints": {"sharedInbox": f"{self.url}/inbox"},
            "publicKey": {
                "id": f"{self.actor_id}#main-key",
                "owner": self.actor_id,
                "publicKeyPem": keys.public_pem_from_private(self.private_pem),
            },
        }

    def new_id(self) -> str:
        return f"{self.actor_id}/statuses/{next(self._ids)}"

    def webfinger(self, resource: str) -> dict[str, Any] | None:
        if resource != f"acct:rita@{self.host}":
            return None
        link = {"rel": "self", "type": "application/activity+json", "href": self.actor_id}
        return {"subject": resource, "links": [link]}

    def publish_note(self, text: str) -> str:
        """A public note of rita's that others can fetch (and reply to)."""
        note_id = self.new_id()
        self.objects[note_id.removeprefix(self.url)] = {
            "@context": AS_CONTEXT,
            "id": note_id,
            "type": "Note",
            "attributedTo": self.actor_id,
            "content": f"<p>{text}</p>",
            "to": [PUBLIC],
            "cc": [f"{self.actor_id}/followers"],
        }
        return note_id

    # what rita sends

    def send(self, activity: dict[str, Any], inbox_url: str) -> httpx.Response:
        body = json.dumps(activity).encode()
        key = PrivateKey(key_id=f"{self.actor_id}#main-key", pem=self.private_pem)
        headers = {"Content-Type": "application/activity+json"}
        headers.update(sign_request("POST", inbox_url, {}, body, key))
        response = httpx.post(inbox_url, content=body, headers=headers, timeout=10)
        assert response.status_code == 202, response.text
        return response

    def follow(self, target_id: str) -> dict[str, Any]:
        return self._activity("Follow", target_id)

    def flag(self, object_ids: list[str], content: str) -> dict[str, Any]:
        return {**self._activity("Flag", object_ids), "content": content}

    def reply(self, in_reply_to: str, text: str, *, mention: str | None = None) -> dict[str, Any]:
        note_id = self.new_id()
        note = {
            "id": note_id,
            "type": "Note",
            "attributedTo": self.actor_id,
            "inReplyTo": in_reply_to,
            "content": f"<p>{text}</p>",
            "published": "2025-05-01T10:00:00Z",
            "to": [PUBLIC],
            "cc": [f"{self.actor_id}/followers", *([mention] if mention else [])],
        }
        return {
            "@context": AS_CONTEXT,
            "id": f"{note_id}/activity",
            "type": "Create",
            "actor": self.actor_id,
            "to": note["to"],
            "cc": note["cc"],
            "object": note,
        }

    def _activity(self, type_: str, obj: Any) -> dict[str, Any]:
        return {
            "@context": AS_CONTEXT,
            "id": f"{self.url}/activities/{next(self._ids)}",
            "type": type_,
            "actor": self.actor_id,
            "object": obj,
        }

    # what rita's server received

    def activities(self, type_: str) -> list[dict[str, Any]]:
        return [a for a in list(self.received) if a.get("type") == type_]

    def wait_for(self, type_: str, what: str, node: ServedNode) -> dict[str, Any]:
        found = wait_until(
            lambda: self.activities(type_) or None,
            f"{what} (rita's server refused: {self.refused})",
            explain=node.output,
        )
        return found[-1]

    # receiving, as Mastodon would: the signature must verify against the sender's own key

    async def _lookup(self, key_id: str) -> PublicKey:
        async with httpx.AsyncClient() as http:
            response = await http.get(
                key_id.split("#")[0], headers={"Accept": "application/activity+json"}
            )
        document = response.json()
        if document.get("publicKey", {}).get("id") != key_id:
            raise SignatureError("key fetch failed")
        return PublicKey(key_id, document["id"], document["publicKey"]["publicKeyPem"])

    def receive(self, path: str, headers: dict[str, str], body: bytes) -> int:
        try:
            signer = asyncio.run(
                verify_request("POST", path, headers, body, self._lookup, scheme="http")
            )
        except SignatureError as exc:
            self.refused.append(exc.reason)
            return 401
        activity = json.loads(body)
        if activity.get("actor") != signer:
            self.refused.append("signer is not the actor")
            return 401
        self.received.append(activity)
        return 202


def _handler(remote: Remote) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path, _, query = self.path.partition("?")
            document: dict[str, Any] | None = remote.objects.get(path)
            if path == "/users/rita":
                document = remote.actor()
            elif path == "/.well-known/webfinger":
                resource = parse_qs(query).get("resource", [""])[0]
                document = remote.webfinger(resource)
            if document is None:
                self._answer(404)
                return
            self._answer(200, json.dumps(document).encode())

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.path not in ("/inbox", "/users/rita/inbox"):
                self._answer(404)
                return
            self._answer(remote.receive(self.path, dict(self.headers.items()), body))

        def _answer(self, status: int, body: bytes = b"") -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/activity+json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # quiet: the node's own log says what it sent

    return Handler


@pytest.fixture(scope="module")
def rita_pem() -> str:
    return keys.generate_private_pem()


@pytest.fixture
def remote(rita_pem: str) -> Iterator[Remote]:
    port = free_port()
    server_remote = Remote(f"http://127.0.0.1:{port}", rita_pem)
    server = ThreadingHTTPServer(("127.0.0.1", port), _handler(server_remote))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server_remote
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


# --- the node -----------------------------------------------------------------------------------


@pytest.fixture
def node(empty_database_url: str, tmp_path: Path) -> ServedNode:
    """An initialised node with the member ben (not serving yet)."""
    directory = tmp_path / "node"
    directory.mkdir()
    url = f"http://127.0.0.1:{free_port()}"
    env = node_env(empty_database_url, directory, url, CONODE_NAME="Riverside Timebank")
    served = ServedNode("node", url, env, directory)
    init_node(served, "ben")
    return served


@pytest.fixture
def served(node: ServedNode) -> Iterator[ServedNode]:
    """The node serving; every wait that times out shows its output."""
    try:
        node.start()
        yield node
    finally:
        node.stop()


@pytest.fixture(scope="module")
def quiet_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedNode]:
    """One initialised node shared by the tests that only see commands refused."""
    directory = tmp_path_factory.mktemp("quiet")
    with fresh_database(directory) as database_url:
        url = f"http://127.0.0.1:{free_port()}"
        node = ServedNode("quiet", url, node_env(database_url, directory, url), directory)
        init_node(node, "ben")
        yield node


def _followed_by_rita(served: ServedNode, remote: Remote) -> None:
    """rita follows ben, and the node's Accept reaches her (signed, verified)."""
    remote.send(remote.follow(f"{served.url}/users/ben"), f"{served.url}/users/ben/inbox")
    accept = remote.wait_for("Accept", "ben's Accept to reach rita", served)
    assert accept["actor"] == f"{served.url}/users/ben"


def _create_post(served: ServedNode, title: str = "Canal path cleared") -> str:
    post_id = served.ok(
        "post", "create", "ben", "--kind", "report", "--title", title,
        "--body", "Twelve of us cleared the canal path.",
    ).strip()  # fmt: skip
    assert post_id.startswith(f"{served.url}/posts/"), post_id
    return post_id


def _refused(result: Any, sentence: str) -> None:
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert sentence in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


# --- help ---------------------------------------------------------------------------------------

# Each new command and subcommand, with the flags docs/operating.md documents for it.
NEW_COMMANDS: list[tuple[str, list[str]]] = [
    ("post", []),
    ("post create", ["--kind", "--title", "--body", "--body-file", "--summary", "--hours"]),
    ("post edit", ["--title", "--body", "--body-file", "--summary"]),
    ("post delete", []),
    ("follow", []),
    ("unfollow", []),
    ("reply", ["--body", "--body-file"]),
    ("comments", []),
    ("comments list", ["--status", "--json"]),
    ("comments approve", []),
    ("comments reject", []),
    ("comments delete", []),
    ("block", []),
    ("block add", ["--reason"]),
    ("block remove", []),
    ("block list", ["--json"]),
    ("reports", []),
    ("reports list", ["--json"]),
    ("reports forward", ["--comment"]),
    ("log", ["--inbound", "--deliveries", "--host", "--outcome", "--json"]),
]


@pytest.mark.parametrize(("command", "flags"), NEW_COMMANDS, ids=[c for c, _ in NEW_COMMANDS])
def test_every_federation_command_has_help(command: str, flags: list[str], tmp_path: Path) -> None:
    result = conode({}, *command.split(), "--help", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"usage: conode {command}")
    missing = [flag for flag in flags if flag not in result.stdout]
    assert not missing, f"conode {command} --help lacks {missing}"


# --- post ---------------------------------------------------------------------------------------


def test_post_create_prints_the_id_of_a_post_the_node_then_serves(
    served: ServedNode, tmp_path: Path
) -> None:
    # Given a Markdown file
    body_file = tmp_path / "report.md"
    body_file.write_text("We cleared the **canal path**.\n\nThanks to everyone. #CanalCleanUp\n")

    # When ben publishes it as a report
    result = served.run(
        "post", "create", "ben", "--kind", "report", "--title", "Canal path cleared",
        "--body-file", str(body_file), "--summary", "Twelve people, one path.",
    )  # fmt: skip

    # Then the one line on stdout is the post's id, which answers as an Article and a page
    assert result.returncode == 0, result.stderr
    post_id = result.stdout.strip()
    assert result.stdout == post_id + "\n"
    assert post_id.startswith(f"{served.url}/posts/")
    article = served.get(post_id, activity_json=True)
    assert article.status_code == 200
    document = article.json()
    assert document["id"] == post_id
    assert document["type"] == "Article"
    assert document["name"] == "Canal path cleared"
    assert document["summary"] == "Twelve people, one path."
    assert document["attributedTo"] == f"{served.url}/users/ben"
    assert "<strong>canal path</strong>" in document["content"]
    page = served.get(post_id)
    assert page.status_code == 200
    assert "Canal path cleared" in page.text


def test_post_create_sets_who_may_reply_and_quote(served: ServedNode) -> None:
    post_id = served.ok(
        "post", "create", "ben", "--kind", "report", "--title", "Canal path cleared",
        "--body", "Twelve of us.", "--replies", "members", "--quotes", "anyone",
    ).strip()  # fmt: skip

    policy = served.get(post_id, activity_json=True).json()["interactionPolicy"]

    assert policy["canReply"]["automaticApproval"] == [f"{served.url}/users/ben"]
    assert policy["canQuote"]["automaticApproval"] == [
        "https://www.w3.org/ns/activitystreams#Public"
    ]


def test_an_offer_carries_who_may_reply_and_quote_too(served: ServedNode) -> None:
    post_id = served.ok(
        "post", "create", "ben", "--kind", "offer", "--title", "Bike repairs",
        "--body", "Two hours on Saturday.", "--hours", "2", "--quotes", "nobody",
    ).strip()  # fmt: skip

    note = served.get(post_id, activity_json=True).json()

    assert note["type"] == "Note"
    assert note["interactionPolicy"]["canQuote"]["automaticApproval"] == [f"{served.url}/users/ben"]
    assert note["interactionPolicy"]["canReply"]["automaticApproval"] == [
        "https://www.w3.org/ns/activitystreams#Public"
    ]


@pytest.mark.parametrize(
    ("arguments", "sentence"),
    [
        (["ben", "--kind", "poem", "--title", "T", "--body", "B"], "invalid choice: 'poem'"),
        (["ben", "--kind", "blog", "--title", "T", "--body", "B", "--quotes", "all"], "'all'"),
        (
            ["ben", "--kind", "offer", "--title", "T", "--body", "B", "--replies", "everyone"],
            "invalid choice: 'everyone'",
        ),
        (["ben", "--kind", "report", "--body", "B"], "the following arguments are required"),
        (["ben", "--kind", "report", "--title", "  ", "--body", "B"], "A post needs a title"),
        (["ben", "--kind", "report", "--title", "T", "--body", " "], "A post needs some text"),
        (["zoe", "--kind", "report", "--title", "T", "--body", "B"], "no member 'zoe'"),
        (["ben", "--kind", "blog", "--title", "T", "--body-file", "nope.md"], "cannot read"),
        (["ben", "--kind", "offer", "--title", "T", "--body", "B", "--hours", "-1"], "more than 0"),
        (["ben", "--kind", "blog", "--title", "x" * 201, "--body", "B"], "keep it under 200"),
    ],
    ids=[
        "bad-kind",
        "bad-quotes",
        "bad-policy-on-offer",
        "no-title",
        "blank-title",
        "blank-body",
        "unknown-member",
        "missing-file",
        "offer",
        "long-title",
    ],
)
def test_post_create_refuses_bad_input_with_a_sentence(
    quiet_node: ServedNode, arguments: list[str], sentence: str
) -> None:
    _refused(quiet_node.run("post", "create", *arguments), sentence)


def test_post_edit_changes_the_post_and_federates_the_update(
    served: ServedNode, remote: Remote
) -> None:
    # Given rita follows ben and has received his post
    _followed_by_rita(served, remote)
    post_id = _create_post(served)
    create = remote.wait_for("Create", "ben's post to reach rita", served)
    assert create["object"]["id"] == post_id

    # When the operator edits its title and body (from standard input)
    result = conode(
        served.env,
        "post", "edit", post_id, "--title", "Canal path cleared (photos)", "--body-file", "-",
        stdin="Now with *photos*.\n",
        cwd=served.directory,
    )  # fmt: skip

    # Then the post changes in place and rita receives an Update from ben
    assert result.returncode == 0, result.stderr
    assert post_id in result.stdout
    document = served.get(post_id, activity_json=True).json()
    assert document["name"] == "Canal path cleared (photos)"
    assert "<em>photos</em>" in document["content"]
    assert document.get("updated")
    update = remote.wait_for("Update", "the Update to reach rita", served)
    assert update["actor"] == f"{served.url}/users/ben"
    assert update["object"]["id"] == post_id
    assert update["object"]["name"] == "Canal path cleared (photos)"

    # And an unknown post is refused with a sentence
    _refused(served.run("post", "edit", f"{served.url}/posts/nope", "--title", "X"), "no post")


def test_post_delete_answers_410_and_federates_the_delete(
    served: ServedNode, remote: Remote
) -> None:
    # Given rita follows ben, who published a post
    _followed_by_rita(served, remote)
    post_id = _create_post(served)
    remote.wait_for("Create", "ben's post to reach rita", served)

    # When the operator deletes it
    result = served.run("post", "delete", post_id)

    # Then its URL answers 410 (a Tombstone for ActivityPub) and rita receives the Delete
    assert result.returncode == 0, result.stderr
    assert f"deleted {post_id}" in result.stdout
    tombstone = served.get(post_id, activity_json=True)
    assert tombstone.status_code == 410
    assert tombstone.json()["type"] == "Tombstone"
    assert served.get(post_id).status_code == 410
    delete = remote.wait_for("Delete", "the Delete to reach rita", served)
    deleted = delete["object"]
    assert (deleted["id"] if isinstance(deleted, dict) else deleted) == post_id

    # And deleting or editing it again is refused
    _refused(served.run("post", "delete", post_id), "already deleted")
    _refused(served.run("post", "edit", post_id, "--title", "Back"), "was deleted")


# --- follow, unfollow, reply ---------------------------------------------------------------------


def test_follow_and_unfollow_a_remote_account_by_handle(served: ServedNode, remote: Remote) -> None:
    ben_id = f"{served.url}/users/ben"

    # When ben follows rita by her handle
    result = served.run("follow", "ben", f"@rita@{remote.host}")

    # Then her server receives ben's signed Follow
    assert result.returncode == 0, result.stderr
    assert remote.actor_id in result.stdout
    follow = remote.wait_for("Follow", "ben's Follow to reach rita", served)
    assert (follow["actor"], follow["object"]) == (ben_id, remote.actor_id)

    # When ben unfollows her, then she receives the Undo of that same Follow
    result = served.run("unfollow", "ben", remote.actor_id)
    assert result.returncode == 0, result.stderr
    assert f"no longer follows {remote.actor_id}" in result.stdout
    undo = remote.wait_for("Undo", "ben's Undo to reach rita", served)
    assert undo["actor"] == ben_id
    assert undo["object"]["id"] == follow["id"]

    # And accounts that do not exist, or are not followed, are refused with a sentence
    _refused(served.run("follow", "ben", f"@nobody@{remote.host}"), "cannot find @nobody")
    _refused(served.run("unfollow", "ben", f"@rita@{remote.host}"), "does not follow")
    _refused(served.run("follow", "zoe", f"@rita@{remote.host}"), "no member 'zoe'")


def test_reply_to_a_remote_note_prints_the_id_of_a_note_delivered_to_its_author(
    served: ServedNode, remote: Remote
) -> None:
    # Given a public note of rita's
    note_id = remote.publish_note("Who has a ladder to lend?")

    # When ben replies to it
    result = served.run("reply", "ben", note_id, "--body", "I have one, *tall* enough")

    # Then the reply's id is printed, the node serves it, and rita's server receives it
    assert result.returncode == 0, result.stderr
    reply_id = result.stdout.strip()
    assert reply_id.startswith(f"{served.url}/notes/")
    document = served.get(reply_id, activity_json=True).json()
    assert document["id"] == reply_id
    assert document["inReplyTo"] == note_id
    assert document["attributedTo"] == f"{served.url}/users/ben"
    assert "<em>tall</em>" in document["content"]
    create = remote.wait_for("Create", "ben's reply to reach rita", served)
    assert create["object"]["id"] == reply_id
    assert remote.actor_id in create["object"]["cc"]

    # And an object that cannot be fetched, or an empty body, is refused with a sentence
    _refused(served.run("reply", "ben", f"{remote.url}/gone", "--body", "Hi"), "cannot fetch")
    _refused(served.run("reply", "ben", note_id, "--body", "  "), "A reply needs some text")


# --- comments -----------------------------------------------------------------------------------


def _pending(served: ServedNode, count: int) -> list[dict[str, Any]]:
    def probe() -> list[dict[str, Any]] | None:
        comments = served.json("comments", "list", "--status", "pending")
        return comments if len(comments) == count else None

    return wait_until(probe, f"{count} pending comments", explain=served.output)


def test_comments_are_listed_and_approved_rejected_or_deleted(
    served: ServedNode, remote: Remote
) -> None:
    # Given three public replies from rita to ben's post (held: her first comments)
    post_id = _create_post(served)
    ben_id = f"{served.url}/users/ben"
    for text in ("Lovely work", "Buy cheap watches", "My phone number is 0123"):
        remote.send(remote.reply(post_id, text, mention=ben_id), f"{served.url}/inbox")

    # When the operator lists the pending comments
    comments = _pending(served, 3)

    # Then each carries what a moderator needs
    assert [c["status"] for c in comments] == ["pending"] * 3
    assert {c["author"] for c in comments} == {remote.actor_id}
    assert {c["in_reply_to"] for c in comments} == {post_id}
    assert [c["content"] for c in comments] == [
        "<p>Lovely work</p>",
        "<p>Buy cheap watches</p>",
        "<p>My phone number is 0123</p>",
    ]
    assert all(isinstance(c["id"], int) for c in comments)
    text = served.ok("comments", "list")
    assert "pending" in text and "Lovely work" in text and remote.actor_id in text

    # When one is approved, one rejected and one deleted
    kept, spam, private = (c["id"] for c in comments)
    assert f"comment {kept} is now approved" in served.ok("comments", "approve", str(kept))
    assert f"comment {spam} is now rejected" in served.ok("comments", "reject", str(spam))
    assert f"comment {private} is now deleted" in served.ok("comments", "delete", str(private))

    # Then only the approved one is published, and the list says what became of each
    replies = served.get(f"{post_id}/replies", activity_json=True).json()
    assert replies["totalItems"] == 1
    assert replies["first"]["items"] == [comments[0]["object_id"]]
    page = served.get(post_id).text
    assert "Lovely work" in page and "cheap watches" not in page and "0123" not in page
    everything = served.json("comments", "list", "--status", "all")
    assert [(c["id"], c["status"]) for c in everything] == [
        (kept, "approved"),
        (spam, "rejected"),
        (private, "deleted"),
    ]
    assert everything[2]["content"] == ""
    assert served.json("comments", "list") == []
    assert [c["id"] for c in served.json("comments", "list", "--status", "rejected")] == [spam]
    assert "no pending comments" in served.ok("comments", "list")

    # And an unknown comment is refused with a sentence
    _refused(served.run("comments", "approve", "9999"), "no comment 9999")


def test_comments_list_refuses_an_unknown_status(quiet_node: ServedNode) -> None:
    result = quiet_node.run("comments", "list", "--status", "spam")
    assert result.returncode == 2
    assert "invalid choice: 'spam'" in result.stderr


# --- block --------------------------------------------------------------------------------------


def test_block_add_list_and_remove(quiet_node: ServedNode) -> None:
    # Given no blocks, when a domain and an actor are blocked
    assert quiet_node.json("block", "list") == []
    added = quiet_node.ok("block", "add", "Example.Social", "--reason", "spam")
    assert "blocked domain example.social" in added
    actor = "https://other.example/users/troll"
    assert f"blocked actor {actor}" in quiet_node.ok("block", "add", actor)

    # Then both are listed, with the reason
    blocks = quiet_node.json("block", "list")
    assert [(b["target"], b["kind"], b["reason"]) for b in blocks] == [
        ("example.social", "domain", "spam"),
        (actor, "actor", ""),
    ]
    assert "example.social" in quiet_node.ok("block", "list")

    # When one is lifted, then only the other is left
    assert "unblocked example.social" in quiet_node.ok("block", "remove", "example.social")
    assert [b["target"] for b in quiet_node.json("block", "list")] == [actor]
    assert "was not blocked" in quiet_node.ok("block", "remove", "example.social")
    assert "unblocked" in quiet_node.ok("block", "remove", actor)
    assert quiet_node.json("block", "list") == []

    # And something that is neither a domain nor an actor URL is refused
    _refused(quiet_node.run("block", "add", "troll@example.social"), "neither a domain")


def test_blocking_a_server_rejects_its_pending_comments_and_drops_what_it_sends(
    served: ServedNode, remote: Remote
) -> None:
    # Given a held comment from rita's server
    post_id = _create_post(served)
    remote.send(remote.reply(post_id, "First!"), f"{served.url}/inbox")
    _pending(served, 1)

    # When the operator blocks her server
    result = served.ok("block", "add", "127.0.0.1", "--reason", "spam wave")

    # Then the held comment is rejected and, once the running server has loaded the block
    # (node/storage/block_list.py), what she sends is dropped before any work
    assert "1 pending comments rejected" in result
    assert [c["status"] for c in served.json("comments", "list", "--status", "all")] == ["rejected"]
    time.sleep(block_list.REFRESH_SECONDS)  # the documented bound, not a guess
    later = remote.reply(post_id, "Second!")
    remote.send(later, f"{served.url}/inbox")
    dropped = served.json("log", "--inbound", "--outcome", "dropped")
    assert [e["activity_id"] for e in dropped] == [later["id"]]
    assert "blocked" in dropped[0]["reason"]
    assert served.json("comments", "list", "--status", "all")[-1]["status"] == "rejected"


def test_a_block_made_by_the_cli_takes_effect_in_the_running_server_within_its_bound(
    served: ServedNode, remote: Remote
) -> None:
    # Given a running server that has just checked rita's server against its block list
    post_id = _create_post(served)
    assert remote.send(remote.reply(post_id, "Hi"), f"{served.url}/inbox").text == "queued\n"

    # When the operator blocks her server from another process
    served.ok("block", "add", "127.0.0.1")
    blocked_at = time.monotonic()

    # Then the server drops what she sends within REFRESH_SECONDS, with no restart
    def dropped() -> bool:
        response = remote.send(remote.reply(post_id, "Again"), f"{served.url}/inbox")
        return response.text == "dropped: blocked\n"

    wait_until(dropped, "the block to take effect", timeout=10, explain=served.output)
    assert time.monotonic() - blocked_at < block_list.REFRESH_SECONDS + 1.0
    # And it stays dropped
    assert dropped()


# --- reports ------------------------------------------------------------------------------------


def test_reports_list_shows_flags_received(served: ServedNode, remote: Remote) -> None:
    # Given no reports yet
    assert served.json("reports", "list") == []
    assert "no reports" in served.ok("reports", "list")

    # When rita's server reports ben's post
    post_id = _create_post(served)
    flag = remote.flag([f"{served.url}/users/ben", post_id], "This post is spam")
    remote.send(flag, f"{served.url}/inbox")

    # Then the report is listed with who sent it, why and about what
    (report,) = wait_until(
        lambda: served.json("reports", "list") or None,
        "the Flag to be stored",
        explain=served.output,
    )
    assert report["actor_id"] == remote.actor_id
    assert report["content"] == "This post is spam"
    assert report["object_ids"] == [f"{served.url}/users/ben", post_id]
    # with the server it came from, and the member of ours it is about
    server = urlsplit(remote.actor_id).netloc
    assert (report["server"], report["members"]) == (server, ["ben"])
    listing = served.ok("reports", "list")
    assert post_id in listing
    assert f"from {server} (" in listing and "about our member(s) ben" in listing
    # And it cannot be forwarded: nothing in it lives on another server
    refused = served.run("reports", "forward", str(report["id"]), "--comment", "x")
    _refused(refused, f"nothing in report {report['id']} is from an account elsewhere")


# --- log ----------------------------------------------------------------------------------------


def test_log_shows_inbound_activities_and_deliveries_with_filters(
    served: ServedNode, remote: Remote
) -> None:
    # Given rita followed ben (one inbound Follow, one Accept delivered) and an unsigned POST
    _followed_by_rita(served, remote)
    wait_until(
        lambda: served.json("log", "--deliveries") or None,
        "the Accept's delivery to be logged",
        explain=served.output,
    )
    unsigned = httpx.post(
        f"{served.url}/inbox",
        content=json.dumps(remote.follow(f"{served.url}/users/ben")),
        headers={"Content-Type": "application/activity+json"},
    )
    assert unsigned.status_code == 401

    # When the operator reads the log with and without filters
    everything = served.json("log")
    inbound = served.json("log", "--inbound")
    deliveries = served.json("log", "--deliveries", "--host", remote.host)
    refused = served.json("log", "--outcome", "refused")

    # Then each filter keeps what it says, newest last
    assert {e["direction"] for e in everything} == {"inbound", "delivery"}
    assert {e["direction"] for e in inbound} == {"inbound"}
    follow = next(e for e in inbound if e["type"] == "Follow" and e["outcome"] == "accepted")
    assert follow["actor_id"] == remote.actor_id
    assert "follows" in follow["reason"]
    assert [(e["type"], e["outcome"], e["host"]) for e in deliveries] == [
        ("Accept", "delivered", remote.host)
    ]
    assert served.json("log", "--deliveries", "--host", "elsewhere.example") == []
    assert [e["outcome"] for e in refused] == ["refused"]
    assert refused[0]["reason"].startswith("signature"), refused
    assert everything[-1]["outcome"] == "refused"
    assert all(set(e) >= {"created_at", "activity_id", "type", "reason"} for e in everything)
    text = served.ok("log", "--inbound")
    assert "Follow" in text and "accepted" in text

    # And --inbound with --deliveries is refused
    both = served.run("log", "--inbound", "--deliveries")
    assert both.returncode == 2
    assert "not allowed with argument" in both.stderr


def test_group_posts_are_listed_and_a_missing_one_is_named(served: ServedNode) -> None:
    assert "no posts to the group" in served.ok("group-posts", "list")
    assert served.json("group-posts", "list", "--status", "pending") == []
    result = served.run("group-posts", "approve", "7")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "conode: no post 7 to the group: see `conode group-posts list`"
    )
