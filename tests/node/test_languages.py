"""The web pages in English and German (node/web/i18n.py): the catalogue holds every message
the templates and views have, none fuzzy or empty; no template holds a word outside a
translation; a page in German has no English left in its chrome; the language comes from the
member's choice, else the switcher's cookie, else Accept-Language, else CONODE_LANGUAGE; the
switcher works without JavaScript. Through the real app over HTTP."""

from __future__ import annotations

import dataclasses
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest
from babel.messages.pofile import read_po

from node.app import create_app
from node.settings import Settings, SettingsError, load_settings
from node.web import i18n

from ..conftest import TEST_URL
from .conftest import Network
from .web import add_member, csrf_of, sign_in, token

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = ROOT / "node" / "locales" / "de" / "LC_MESSAGES" / "messages.po"
# The translators' extraction command, as docs/operating.md gives it.
EXTRACT = (
    "extract -F babel.cfg -k N_ -k translate:2 -k translate_plural:2,3 -k error_page:3"
    " -k AccountError -k PublishError -k UploadError -k OfferError -k ModerationError"
    " -k LinkError -k InteractionError -k FollowingError -k ForwardError -k ReportError"
    " -k PasswordError --no-location --sort-output"
)
GERMAN = {"Accept-Language": "de"}


def _extract(target: Path) -> None:
    command = [sys.executable, "-m", "babel.messages.frontend", *EXTRACT.split(), "-o"]
    subprocess.run([*command, str(target), "."], cwd=ROOT, check=True, capture_output=True)


def _ids(message_id: str | tuple[str, ...]) -> str:
    return message_id[0] if isinstance(message_id, tuple) else message_id


def test_the_german_catalogue_has_every_message_none_fuzzy_or_empty(tmp_path: Path) -> None:
    # Given every message extraction finds in the templates and web views
    _extract(tmp_path / "messages.pot")
    with (tmp_path / "messages.pot").open("rb") as source:
        extracted = {_ids(m.id) for m in read_po(source) if m.id}
    with CATALOGUE.open("rb") as source:
        catalogue = read_po(source, locale="de")
    translated = {_ids(m.id): m for m in catalogue if m.id}
    # Then the catalogue has each of them, translated, and nothing else
    assert len(extracted) > 400
    assert sorted(extracted - set(translated)) == []
    assert sorted(set(translated) - extracted) == []
    for message in translated.values():
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        assert all(strings), f"no translation for {message.id!r}"
        assert not message.fuzzy, f"fuzzy: {message.id!r}"
    # And every translation keeps its message's placeholders
    assert [(m.id, errors) for m, errors in catalogue.check()] == []
    assert "extract -F babel.cfg -k N_ -k translate:2" in (ROOT / "docs/operating.md").read_text()


_TRANS_BLOCK = re.compile(r"{%-?\s*trans\b.*?%}.*?{%-?\s*endtrans\s*-?%}", re.S)
_TAG_OR_EXPRESSION = re.compile(r"{#.*?#}|{{.*?}}|{%.*?%}|<script.*?</script>|<[^>]*>", re.S)
_WORDED_ATTRIBUTE = re.compile(r'\b(?:aria-label|placeholder|title|alt)="([^"{]+)"')
NOT_WORDS = {"Atom", "RSS", "PDF", "ODT", "KB", "conode"}  # names, the same in every language
# examples of what to type in the log's filters: values as they are stored, in no language
TYPED_VALUES = {
    "mastodon.social",
    "accepted, held, dropped, delivered, gave_up…",
    "@you@other.server",
}


def _untranslated(source: str) -> list[str]:
    """Words a template shows that no translation covers."""
    source = _TRANS_BLOCK.sub(" ", source)
    attributes = [a for a in _WORDED_ATTRIBUTE.findall(source) if a.strip()]
    text = _TAG_OR_EXPRESSION.sub(" ", source)
    words = re.findall(r"[A-Za-z][A-Za-z']+", text) + attributes
    return [word for word in words if word not in NOT_WORDS | TYPED_VALUES]


@pytest.mark.parametrize("template", sorted((ROOT / "templates").glob("*.html")), ids=str)
def test_no_template_holds_a_word_outside_a_translation(template: Path) -> None:
    assert _untranslated(template.read_text()) == []


def test_the_untranslated_word_check_finds_what_it_should() -> None:
    assert _untranslated('<p>Hello {{ name }}</p><img alt="A cat">') == ["Hello", "A cat"]
    assert _untranslated('<p>{% trans %}Hello{% endtrans %} <a href="/feed.atom">Atom</a>') == []
    assert _untranslated("<button>{{ _('Save') }}</button>") == []


class _Chrome(HTMLParser):
    """The interface's own text: header, navigation, footer, labels, buttons, headings,
    legends, table headings, and the words in aria-label, placeholder, alt and title."""

    CHROME = frozenset(
        ("header", "nav", "footer", "label", "button", "legend", "summary", "th", "h1", "h2")
    )

    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []
        self.texts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.texts += [v for k, v in attrs if k in ("aria-label", "placeholder", "alt") and v]
        if tag in self.CHROME:
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in self.open:
            self.open.remove(tag)

    def handle_data(self, data: str) -> None:
        if self.open and data.strip():
            self.texts.append(" ".join(data.split()))


def _english_left(page: str) -> list[str]:
    """Chrome texts of the page that are English messages with a different German text."""
    with CATALOGUE.open("rb") as source:
        english = {
            text
            for m in read_po(source, locale="de")
            if m.id and m.string
            for text in (m.id if isinstance(m.id, tuple) else (m.id,))
            if "%(" not in text and "<" not in text and text != m.string
        }
    chrome = _Chrome()
    chrome.feed(page)
    return [text for text in chrome.texts if text in english]


async def test_a_page_in_german_has_no_english_left_in_its_chrome(network: Network) -> None:
    post_url = await network.post("Frühjahrsputz")
    for path in ("/", "/offers", "/network", "/members", "/about", "/login", "/search?q=x"):
        page = await network.http.get(f"{TEST_URL}{path}", headers=GERMAN)
        assert page.status_code == 200, path
        assert page.headers["content-language"] == "de"
        assert '<html lang="de">' in page.text
        assert _english_left(page.text) == [], path
    # And the signed-in member's forms too
    await add_member(network.node.store, network.node.settings, "dana", admin=True)
    await sign_in(network.http, "dana")
    for path in ("/write", "/settings", "/moderation", "/admin/members", post_url[len(TEST_URL) :]):
        page = await network.http.get(f"{TEST_URL}{path}", headers=GERMAN)
        assert page.status_code == 200, path
        assert _english_left(page.text) == [], path
    home = (await network.http.get(f"{TEST_URL}/", headers=GERMAN)).text
    assert ">Startseite</a>" in home and ">Abmelden</button>" in home


def test_the_chrome_check_finds_english() -> None:
    page = "<header><nav><a>Home</a></nav></header><label>Titel</label><button>Search</button>"
    assert _english_left(page) == ["Home", "Search"]


async def test_the_switcher_works_without_javascript(network: Network) -> None:
    # Given an English page, whose footer links to the German one
    page = await network.http.get(f"{TEST_URL}/offers")
    assert '<html lang="en">' in page.text
    assert 'href="/language/de?next=/offers"' in page.text
    # When the visitor follows the link
    switched = await network.http.get(f"{TEST_URL}/language/de?next=/offers")
    # Then they are back on the page, in German, and stay in German
    assert switched.status_code == 303 and switched.headers["location"] == "/offers"
    assert "lang=de" in switched.headers["set-cookie"]
    again = await network.http.get(f"{TEST_URL}/offers")
    assert '<html lang="de">' in again.text and "Angebote und Gesuche" in again.text
    assert 'href="/language/en?next=/offers"' in again.text
    # And back to English
    await network.http.get(f"{TEST_URL}/language/en?next=/")
    assert '<html lang="en">' in (await network.http.get(f"{TEST_URL}/offers")).text


async def test_the_switcher_goes_back_only_to_this_site_and_knows_its_languages(
    network: Network,
) -> None:
    for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        answer = await network.http.get(f"{TEST_URL}/language/de", params={"next": target})
        assert answer.headers["location"] == "/"
    unknown = await network.http.get(f"{TEST_URL}/language/xx")
    assert unknown.status_code == 404
    assert "set-cookie" not in unknown.headers


@pytest.mark.parametrize(
    ("header", "language"),
    [
        ("de", "de"),
        ("de-AT,de;q=0.9,en;q=0.5", "de"),
        ("fr-CH, fr;q=0.9, de;q=0.8, en;q=0.7", "de"),  # no French: the next wanted
        ("en-GB,en;q=0.9,de;q=0.8", "en"),
        ("de;q=0, en", "en"),
        ("*", "en"),
        ("x" * 5000, "en"),
        ("", "en"),
    ],
)
async def test_accept_language_is_honoured(network: Network, header: str, language: str) -> None:
    page = await network.http.get(f"{TEST_URL}/", headers={"Accept-Language": header})
    assert page.status_code == 200
    assert f'<html lang="{language}">' in page.text
    assert page.headers["content-language"] == language
    assert "Accept-Language" in page.headers["vary"]


async def test_the_cookie_beats_the_header_and_the_members_choice_beats_the_cookie(
    network: Network,
) -> None:
    # The switcher's cookie beats the browser's header
    network.http.cookies.set("lang", "en", domain="conode.example")
    page = await network.http.get(f"{TEST_URL}/", headers=GERMAN)
    assert '<html lang="en">' in page.text
    # A member who chose German sees German whatever the cookie says
    await add_member(network.node.store, network.node.settings, "dana")
    await sign_in(network.http, "dana")
    network.http.cookies.set("lang", "en", domain="conode.example")
    csrf = await token(network.http, "/settings")
    saved = await network.http.post(
        f"{TEST_URL}/settings/language", data={"csrf": csrf, "language": "de"}
    )
    assert saved.status_code == 303
    settings_page = (await network.http.get(f"{TEST_URL}/settings")).text
    assert '<html lang="de">' in settings_page
    assert '<option value="de" lang="de" selected>' in settings_page
    # Giving the choice up hands it back to the cookie
    csrf = csrf_of(settings_page)
    await network.http.post(f"{TEST_URL}/settings/language", data={"csrf": csrf, "language": ""})
    assert '<html lang="en">' in (await network.http.get(f"{TEST_URL}/settings")).text
    # A language not offered, or no form token, is refused
    refused = await network.http.post(
        f"{TEST_URL}/settings/language", data={"csrf": csrf, "language": "xx"}
    )
    assert refused.status_code == 400
    forged = await network.http.post(f"{TEST_URL}/settings/language", data={"language": "de"})
    assert forged.status_code == 403
    row = await network.node.store.local_actor("dana")
    assert row is not None and row.language is None


async def test_the_nodes_language_decides_when_nothing_else_does(settings: Settings) -> None:
    app = create_app(dataclasses.replace(settings, language="de"))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=TEST_URL) as http:
            assert '<html lang="de">' in (await http.get("/")).text
            english = await http.get("/", headers={"Accept-Language": "en"})
            assert '<html lang="en">' in english.text


def test_conode_language_must_name_a_shipped_language() -> None:
    assert load_settings({"CONODE_LANGUAGE": "DE"}, env_file=None).language == "de"
    with pytest.raises(SettingsError, match="CONODE_LANGUAGE='xx' has no translation here"):
        load_settings({"CONODE_LANGUAGE": "xx"}, env_file=None)


def test_available_languages_names_each_in_its_own_words() -> None:
    assert [(lang.code, lang.name) for lang in i18n.available_languages()] == [
        ("en", "English"),
        ("de", "Deutsch"),
    ]


async def test_kept_comment_lists_are_kept_per_language(network: Network) -> None:
    # Given a post with a comment, seen first by an English visitor (the list is kept)
    post_url = await network.post()
    await network.node.store.approve_author(network.mastodon.actor_id("alice"))
    reply = network.mastodon.reply("alice", post_url, "Lovely work")
    await network.mastodon.send("alice", reply, f"{TEST_URL}/inbox")
    await network.drain()
    assert 'aria-label="Comment by' in (await network.http.get(post_url)).text
    # When a German visitor reads it, then the list is in German
    german = (await network.http.get(post_url, headers=GERMAN)).text
    assert 'aria-label="Kommentar von' in german
    assert "1 Kommentar" in german and "Lovely work" in german


async def test_dates_and_hours_read_as_the_language_does(network: Network) -> None:
    post_url = await network.post()
    german = (await network.http.get(post_url, headers=GERMAN)).text
    months = "Januar|Februar|März|April|Mai|Juni|Juli|August|September|Oktober|November|Dezember"
    assert re.search(rf"\d{{1,2}}\. ({months}) \d{{4}}</time>", german)
    assert i18n.hours_in("de", 90) == "1,5 Stunden"
    assert i18n.hours_in("de", 60) == "1 Stunde"
    assert i18n.hours_in("en", 90) == "1.5 hours"


async def test_form_errors_and_notices_are_in_the_pages_language(network: Network) -> None:
    # Given a member who reads German
    await add_member(network.node.store, network.node.settings, "dana")
    await sign_in(network.http, "dana")
    csrf = await token(network.http)
    # A domain's error shown in the form
    form = {"csrf": csrf, "kind": "report", "title": " ", "body": "Text", "action": "publish"}
    refused = await network.http.post(f"{TEST_URL}/write", data=form, headers=GERMAN)
    assert refused.status_code == 400
    assert "Ein Beitrag braucht einen Titel." in refused.text
    # A view's own refusal, on the error page
    expired = await network.http.post(f"{TEST_URL}/write", data={"title": "x"}, headers=GERMAN)
    assert expired.status_code == 403 and "Dieses Formular ist abgelaufen" in expired.text
    # A notice after a change
    saved = await network.http.get(f"{TEST_URL}/settings?done=profile", headers=GERMAN)
    assert "Dein Profil ist gespeichert" in saved.text
    # And a notice with a value in it
    await add_member(network.node.store, network.node.settings, "mia", admin=True)
    await sign_in(network.http, "mia")
    page = await network.http.get(
        f"{TEST_URL}/admin/members?done=suspend&name=dana", headers=GERMAN
    )
    assert "@dana ist gesperrt und überall abgemeldet." in page.text


async def test_a_kept_page_is_kept_per_language_and_counts_views_in_it(network: Network) -> None:
    # Given a post seen by an English visitor first (the page is kept)
    post_url = await network.post()
    person = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0"}
    english = await network.http.get(post_url, headers=person)
    assert english.headers["content-language"] == "en"
    # When German visitors read it twice
    first = await network.http.get(post_url, headers={**person, **GERMAN})
    second = await network.http.get(post_url, headers={**person, **GERMAN})
    # Then each gets the German page, with its view count in German, and caches are told so
    for page in (first, second):
        assert page.headers["content-language"] == "de" and '<html lang="de">' in page.text
        assert "Accept-Language" in page.headers["vary"]
    shown = [
        re.search(r'<span class="views">(\d+) Aufrufe?</span>', p.text) for p in (first, second)
    ]
    assert shown[0] and shown[1] and int(shown[1][1]) == int(shown[0][1]) + 1


async def test_a_domains_refusal_with_values_is_said_in_the_pages_language(
    network: Network,
) -> None:
    # Given a member who reads German
    await add_member(network.node.store, network.node.settings, "dana")
    await sign_in(network.http, "dana")
    csrf = await token(network.http)
    offer = {"csrf": csrf, "kind": "offer", "title": "Garten", "body": "Hilfe", "action": "publish"}
    # An offer's hours and category, refused with what was written in the sentence
    for fields, said in (
        ({"hours": "viele"}, "Die Stunden (&#39;viele&#39;) müssen eine Zahl sein, z. B. 2"),
        ({"hours": "0.1"}, "Die Stunden (&#39;0.1&#39;) zählen in Viertelstunden"),
        ({"category": "Stricken"}, "Unbekannte Kategorie &#39;Stricken&#39;: nimm eine von"),
        (
            {"expires": "2001-01-01"},
            "Das Enddatum (&#39;2001-01-01&#39;) liegt in der Vergangenheit",
        ),
    ):
        refused = await network.http.post(f"{TEST_URL}/write", data=offer | fields, headers=GERMAN)
        assert refused.status_code == 400
        assert said in refused.text, fields
    # A post's language, and the profile's bio on the settings page
    report = offer | {"kind": "report", "language": "xx"}
    refused = await network.http.post(f"{TEST_URL}/write", data=report, headers=GERMAN)
    assert "Die Sprache &#39;xx&#39; gibt es hier nicht; wähle eine von en, de." in refused.text
    csrf = await token(network.http, "/settings")
    profile = {"csrf": csrf, "display_name": "Dana", "bio": "x" * 5000, "email": ""}
    refused = await network.http.post(f"{TEST_URL}/settings/profile", data=profile, headers=GERMAN)
    assert refused.status_code == 400
    assert "Die Beschreibung muss unter 2000 Zeichen bleiben" in refused.text
    # In English the same refusal reads as the command line says it
    refused = await network.http.post(f"{TEST_URL}/write", data=offer | {"hours": "viele"})
    assert "The hours (&#39;viele&#39;) must be a number of hours, e.g. 2 or 1.5" in refused.text


def test_a_worded_error_is_english_on_the_command_line_and_survives_a_bad_translation() -> None:
    from node.offers.terms import OfferError

    error = OfferError("unknown category {name!r}: use one of {choices}", name="x", choices="a, b")
    assert str(error) == "unknown category 'x': use one of a, b"
    assert error.said_in("Kategorie {name!r} unbekannt") == "Kategorie 'x' unbekannt"
    assert error.said_in("Kategorie {nom} unbekannt") == str(error)  # a mistyped placeholder
    assert OfferError("braces {kept} as written").args == ("braces {kept} as written",)
