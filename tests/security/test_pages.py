"""What a browser gets: no script survives into a page (OWASP filter-evasion vectors through
comment content, content warnings, display names, titles and URLs, checked on the rendered
HTML), every response carries the hardening headers, and errors show no internals."""

from __future__ import annotations

import dataclasses
import re
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route

from node.app import create_app
from node.moderation import rules as moderation
from node.ops import vault
from node.settings import Settings
from node.storage import async_url
from node.web import pages
from node.web.security_headers import SecurityHeaders

from ..conftest import TEST_URL
from .conftest import SHARED_INBOX, Network
from .xss_vectors import HTML_VECTORS, URL_VECTORS

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
PAGE_TAGS = {"html", "head", "meta", "title", "link", "body", "header", "main", "footer"}
PAGE_TAGS |= {"h1", "h2", "h3", "h4", "article", "section", "time", "div", "details", "summary"}
PAGE_TAGS |= {"p", "span", "br", "a", "del", "pre", "code", "em", "strong", "b", "i", "u", "hr"}
PAGE_TAGS |= {"ul", "ol", "li", "blockquote"}
# The web interface's own structure (forms, navigation, figures); never script-bearing tags.
PAGE_TAGS |= {"nav", "form", "input", "button", "label", "textarea", "select", "option"}
PAGE_TAGS |= {"figure", "figcaption", "img", "small", "fieldset", "legend", "dl", "dt", "dd"}
PAGE_TAGS |= {"table", "thead", "tbody", "tr", "th", "td", "aside", "abbr", "mark", "output"}
SAFE_URL_PREFIXES = ("http://", "https://", "mailto:", "/", "#")


class PageAudit(HTMLParser):
    """Collects everything in a page that could run script or leave the page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.comments = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in PAGE_TAGS:
            self.problems.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on") or name in ("style", "background", "srcdoc", "formaction"):
                self.problems.append(f"<{tag} {name}>")
            if name in ("href", "src", "action", "data") and not _safe(value or ""):
                self.problems.append(f"<{tag} {name}={value!r}>")
            if name == "class" and value == "comment":
                self.comments += 1
        if tag == "meta" and not (
            {"charset"} <= {n for n, _ in attrs}
            or ("name", "viewport") in attrs
            or ("name", "color-scheme") in attrs  # the page's own: light and dark schemes
        ):
            self.problems.append(f"<meta {attrs}>")


def _safe(url: str) -> bool:
    squeezed = "".join(char for char in url if char > " ").lower()
    return squeezed.startswith(SAFE_URL_PREFIXES)


def audit(page: str) -> PageAudit:
    parser = PageAudit()
    parser.feed(page)
    parser.close()
    return parser


async def _approve_all(net: Network) -> None:
    for note in await net.node.store.notes_with_status("pending"):
        await moderation.set_comment_status(net.node.store, note.id or 0, "approved")


async def test_xss_vectors_in_comments_never_reach_the_page_as_script(network: Network) -> None:
    # Given a post, and one comment per vector: in the content, the content warning and the URL
    post_id = await network.post(title="A <script>alert('title')</script> report")
    vectors = HTML_VECTORS + URL_VECTORS
    for number, vector in enumerate(vectors):
        create = network.mastodon.reply("alice", post_id, "x")
        note = create["object"]
        note.update(content=vector, summary=vector, url=URL_VECTORS[number % len(URL_VECTORS)])
        response = await network.mastodon.send("alice", create, SHARED_INBOX)
        assert response.status_code == 202, (vector, response.text)
    await network.drain()
    await _approve_all(network)
    # When the post's pages of comments are rendered (50 threads a page)
    page = (await network.http.get(post_id, headers={"Accept": "text/html"})).text
    more = (await network.http.get(f"{post_id}?comments=2", headers={"Accept": "text/html"})).text
    # Then every comment is shown, and none of them carries anything that can run
    first, second = audit(page), audit(more)
    assert first.comments + second.comments == len(vectors)
    assert first.problems == [] and second.problems == []
    assert "alert(&#39;title&#39;)" in page or "alert(&#x27;title&#x27;)" in page


async def test_xss_vectors_in_display_names_are_text(
    network: Network, monkeypatch: pytest.MonkeyPatch
) -> None:
    vectors = HTML_VECTORS + URL_VECTORS
    monkeypatch.setattr(pages, "MEMBERS", len(vectors) + 1)  # the home page names them all
    ben = await network.node.store.local_actor("ben")
    assert ben is not None
    for number, vector in enumerate(vectors):
        # ben's key material is reused: generating one RSA key per vector is slow
        await network.node.store.insert_local_actor(
            username=f"mallory{number}",
            kind="Person",
            display_name=vector[:200],
            summary=vector,
            public_key_pem=ben.public_key_pem,
            private_key_sealed=ben.private_key_sealed,
        )
    home = await network.http.get(f"{TEST_URL}/", headers={"Accept": "text/html"})
    assert len(re.findall(r'/@mallory\d+"', home.text)) == len(vectors)  # each linked once
    assert audit(home.text).problems == []
    for number in range(len(vectors)):
        profile = await network.http.get(f"{TEST_URL}/@mallory{number}")
        assert profile.status_code == 200
        assert audit(profile.text).problems == [], vectors[number]


async def test_remote_images_in_posts_become_links(network: Network) -> None:
    body = "![a cat](https://images.example/cat.png) and ![ours](https://conode.example/x.png)"
    post_id = await network.post(body=body)
    page = (await network.http.get(post_id, headers={"Accept": "text/html"})).text
    assert '<img src="https://images.example' not in page
    assert (
        '<a href="https://images.example/cat.png" rel="nofollow noopener noreferrer ugc">' in page
    )
    assert '<img src="https://conode.example/x.png" alt="ours">' in page
    # …while the federated Article keeps the image for other servers
    document = await network.http.get(post_id, headers={"Accept": "application/activity+json"})
    assert '<img src=\\"https://images.example/cat.png\\"' in document.text


def test_templates_hold_no_inline_script_or_style() -> None:
    for template in TEMPLATES.glob("*.html"):
        text = template.read_text().lower()
        for marker in ("<script", "<style", " style=", "javascript:", " on"):
            if marker == " on":
                assert " onclick" not in text and " onload" not in text, template.name
            else:
                assert marker not in text, f"{template.name}: {marker}"


# --- headers --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/", "/users/ben", "/.well-known/webfinger?resource=x", "/static/site.css", "/nope"]
)
async def test_every_response_carries_the_hardening_headers(
    client: httpx.AsyncClient, path: str
) -> None:
    response = await client.get(path)
    csp = response.headers["content-security-policy"]
    assert "script-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert "style-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["strict-transport-security"].startswith("max-age=")


async def test_the_stylesheet_is_served_as_css(client: httpx.AsyncClient) -> None:
    page = await client.get("/")
    assert '<link rel="stylesheet" href="/static/site.css">' in page.text
    css = await client.get("/static/site.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")


async def test_an_http_node_sends_no_hsts(settings: Settings) -> None:
    app = create_app(dataclasses.replace(settings, url="http://127.0.0.1:8000"))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=TEST_URL) as http,
    ):
        response = await http.get("/")
    assert "strict-transport-security" not in response.headers
    assert "content-security-policy" in response.headers


async def test_cookies_are_httponly_samesite_and_secure() -> None:
    async def login(request: object) -> Response:
        response = Response("ok")
        response.headers.append("set-cookie", "session=abc; Path=/")
        response.set_cookie("prefs", "x", httponly=True, samesite="strict", secure=True)
        return response

    app = SecurityHeaders(Starlette(routes=[Route("/", login)]), https=True)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=TEST_URL) as http:
        response = await http.get("/")
    session, prefs = response.headers.get_list("set-cookie")
    assert "HttpOnly" in session and "SameSite=Lax" in session and "Secure" in session
    assert (
        prefs.count("HttpOnly") == 1 and "SameSite=strict" in prefs and "SameSite=Lax" not in prefs
    )


# --- errors ---------------------------------------------------------------------------------


async def test_a_server_error_shows_no_internals(settings: Settings, network: Network) -> None:
    # Given a post, and then a database that has lost a table under the node
    post_id = await network.post()
    engine = create_async_engine(async_url(settings.database_url))
    async with engine.begin() as connection:
        # CASCADE on PostgreSQL: other tables (offer responses, media) refer to it.
        cascade = "" if connection.dialect.name == "sqlite" else " CASCADE"
        await connection.execute(sa.text(f"DROP TABLE notes{cascade}"))
    await engine.dispose()
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with app.router.lifespan_context(app), httpx.AsyncClient(transport=transport) as http:
        for url, accept in ((post_id, "text/html"), (f"{post_id}/replies", "application/json")):
            # When a page that needs it is asked for
            response = await http.get(url, headers={"Accept": accept})
            # Then the answer is a plain 500 with no traceback, SQL or path in it
            assert response.status_code == 500, response.text[:300]
            assert response.text == "Something went wrong on this node; try again later.\n"
            assert "content-security-policy" in response.headers
    assert vault.load_secret(settings.secret_path)


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/users/ben/outbox?page=99999999999999999999999", 200),  # was an integer overflow: 500
        ("/users/ben/outbox?page=%C2%B2", 200),  # "²" passes isdigit() but not int()
        ("/users/%00/outbox", 400),  # PostgreSQL text cannot hold NUL: 500
        ("/.well-known/webfinger?resource=acct:%00@conode.example", 400),
        ("/users/" + "a" * 9000, 400),
    ],
)
async def test_hostile_urls_get_a_4xx_or_a_page_never_a_500(
    network: Network, path: str, status: int
) -> None:
    response = await network.http.get(
        f"{TEST_URL}{path}", headers={"Accept": "application/activity+json"}
    )
    assert response.status_code == status


async def test_a_replies_page_past_any_real_one_is_the_collection(network: Network) -> None:
    post_id = await network.post()
    response = await network.http.get(f"{post_id}/replies?page=99999999999999999999")
    assert response.status_code == 200 and response.json()["type"] == "Collection"
