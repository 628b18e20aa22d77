"""The web interface's languages: which there are, which one a request is answered in, and the
gettext functions templates and views translate with. The command line stays English.

English is the source language: the messages are the English text, written in the templates
(`{% trans %}…{% endtrans %}`, `_("…")`) and in the views (marked with `N_`, `translate` or as
`error_page`'s message), so English needs no catalogue. Every other language is a catalogue,
`node/locales/<code>/LC_MESSAGES/messages.po`, compiled in memory the first time a process
needs it (Babel's reader and .mo writer, a few milliseconds). So there is no `.mo` file to build,
commit or forget to rebuild: the `.po` that translators edit is what the node reads. Fuzzy
entries are left out, as `msgfmt` leaves them out.

A request's language, first that applies: the signed-in member's choice (/settings), the `lang`
cookie the footer's switcher sets, the browser's `Accept-Language`, `CONODE_LANGUAGE`.
"""

from __future__ import annotations

import functools
import gettext
from dataclasses import dataclass
from datetime import datetime
from io import BytesIO
from typing import Any

import jinja2
from babel import Locale, dates, numbers
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from starlette.requests import Request

from node.accounts import sessions
from node.offers.terms import hours_text
from node.settings import LOCALES_DIR, SOURCE_LANGUAGE, interface_languages
from node.wording import WordedError

COOKIE = "lang"
COOKIE_SECONDS = 365 * 24 * 3600
_SCOPE_KEY = "conode.language"
MAX_ACCEPT_LANGUAGE = 40  # entries of Accept-Language looked at; the header is the client's


@dataclass(frozen=True)
class Language:
    code: str  # "de"
    name: str  # in its own language: "Deutsch"


def N_(message: str) -> str:
    """Marks a message for the catalogue where it is translated later, when shown."""
    return message


@functools.cache
def available_languages() -> tuple[Language, ...]:
    """Every language the pages can be shown in, English first."""
    return tuple(
        Language(code, (Locale.parse(code).get_display_name(code) or code).capitalize())
        for code in interface_languages()
    )


@functools.cache
def translations(code: str) -> gettext.NullTranslations:
    """The language's messages, compiled from its catalogue once per process."""
    if code == SOURCE_LANGUAGE:
        return gettext.NullTranslations()
    with (LOCALES_DIR / code / "LC_MESSAGES" / "messages.po").open("rb") as source:
        catalog = read_po(source, locale=code)
    compiled = BytesIO()
    write_mo(compiled, catalog)  # without fuzzy entries
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def accepted(header: str) -> list[str]:
    """The language tags of an Accept-Language header, most wanted first (q=0 left out)."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(header[:1000].split(",")[:MAX_ACCEPT_LANGUAGE]):
        tag, _, parameters = part.strip().partition(";")
        quality = 1.0
        name, _, value = parameters.strip().partition("=")
        if name.strip() == "q":
            try:
                quality = float(value)
            except ValueError:
                quality = 0.0
        if tag and quality > 0:
            ranked.append((-quality, position, tag.strip().lower()))
    return [tag for _, _, tag in sorted(ranked)]


def _known(tag: str | None) -> str | None:
    """The shipped language a tag names ("de-AT" is German), or None."""
    if not tag:
        return None
    primary = tag.lower().replace("_", "-").split("-")[0]
    return primary if primary in interface_languages() else None


def language_of(request: Request) -> str:
    """The language this request is answered in (worked out once per request)."""
    chosen = request.scope.get(_SCOPE_KEY)
    if isinstance(chosen, str):
        return chosen
    candidates = [
        sessions.member_language(request),
        request.cookies.get(COOKIE),
        *accepted(request.headers.get("accept-language", "")),
    ]
    found = next((code for code in map(_known, candidates) if code), None)
    chosen = found or request.app.state.node.settings.language
    request.scope[_SCOPE_KEY] = chosen
    return chosen


def translate(request: Request, message: str) -> str:
    """A message (an English msgid) in the request's language."""
    return translations(language_of(request)).gettext(message)


def said(request: Request, error: WordedError) -> str:
    """A domain's refusal in the request's language, its values put into the translation
    (node/wording.py); the command line prints `str(error)`, the English."""
    return error.said_in(translate(request, error.template))


def translate_plural(request: Request, singular: str, plural: str, count: int) -> str:
    return translations(language_of(request)).ngettext(singular, plural, count)


# Words the pages show for values kept in English in the database and the protocol: kinds of
# post, statuses, block kinds, log directions, moderation actions (the `label` filter).
LABELS: dict[str, str] = {
    "report": N_("Report"),
    "blog": N_("Blog"),
    "offer": N_("Offer"),
    "request": N_("Request"),
    "post": N_("Post"),
    "member": N_("Member"),
    "open": N_("open"),
    "taken": N_("taken"),
    "fulfilled": N_("fulfilled"),
    "withdrawn": N_("withdrawn"),
    "expired": N_("expired"),
    "closed": N_("closed"),
    "private": N_("private"),
    "pending": N_("Pending"),
    "approved": N_("Approved"),
    "rejected": N_("Rejected"),
    "deleted": N_("Deleted"),
    "domain": N_("domain"),
    "actor": N_("actor"),
    "inbound": N_("inbound"),
    "delivery": N_("delivery"),
    "this node": N_("this node"),
    "not checked yet": N_("not checked yet"),
    "reachable": N_("reachable"),
    "unreachable": N_("unreachable"),
    "approve": N_("approve"),
    "approve_trust": N_("approve trust"),
    "reject": N_("reject"),
    "delete": N_("delete"),
    "block_author": N_("block author"),
    "block_server": N_("block server"),
    "pending_untrust": N_("pending untrust"),
    "block": N_("block"),
    "unblock": N_("unblock"),
    "edit_about": N_("edit about"),
    "delete_post": N_("delete post"),
    "reset_link": N_("reset link"),
    "forward_report": N_("forward report"),
    "make_moderator": N_("make moderator"),
    "unmake_moderator": N_("unmake moderator"),
    "suspend": N_("suspend"),
    "unsuspend": N_("unsuspend"),
}
PLURAL_LABELS = {"offer": N_("Offers"), "request": N_("Requests")}


# --- for templates: what `render` passes and the environment's gettext, filters ---


def template_context(request: Request) -> dict[str, Any]:
    code = language_of(request)
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return {
        "lang": code,
        "i18n": translations(code),
        "languages": available_languages(),
        "page_path": here,  # where the language switcher comes back to
    }


@jinja2.pass_context
def _gettext(context: jinja2.runtime.Context, message: str) -> str:
    return str(context["i18n"].gettext(message))


@jinja2.pass_context
def _ngettext(context: jinja2.runtime.Context, singular: str, plural: str, count: int) -> str:
    return str(context["i18n"].ngettext(singular, plural, count))


@jinja2.pass_context
def tr(context: jinja2.runtime.Context, message: str) -> str:
    """A message the view marked (N_) and passed on, in the page's language; plain text, so
    autoescaping still applies (unlike `_()`, whose result is markup)."""
    return str(context["i18n"].gettext(message))


@jinja2.pass_context
def label(context: jinja2.runtime.Context, value: str, plural: bool = False) -> str:
    """A stored value's word (`offer` → "Offer", German "Angebot"); unknown values as they are."""
    message = (PLURAL_LABELS if plural else LABELS).get(value)
    if message is None:
        return value.replace("_", " ")
    return str(context["i18n"].gettext(message))


def _english(context: jinja2.runtime.Context) -> bool:
    return bool(context["lang"] == SOURCE_LANGUAGE)


@jinja2.pass_context
def day(context: jinja2.runtime.Context, moment: datetime) -> str:
    """ "03 December 2026"; in German "3. Dezember 2026" (the language's own long date)."""
    if _english(context):
        return moment.strftime("%d %B %Y")
    return dates.format_skeleton("yMMMMd", moment, locale=context["lang"])


@jinja2.pass_context
def day_and_time(context: jinja2.runtime.Context, moment: datetime) -> str:
    if _english(context):
        return moment.strftime("%d %B %Y, %H:%M")
    return f"{day(context, moment)}, {dates.format_time(moment, 'HH:mm', locale=context['lang'])}"


@jinja2.pass_context
def stamp(context: jinja2.runtime.Context, moment: datetime) -> str:
    """ "03 Dec 14:05:09": a log's compact time."""
    if _english(context):
        return moment.strftime("%d %b %H:%M:%S")
    code = context["lang"]
    return f"{dates.format_skeleton('MMMd', moment, locale=code)} {moment:%H:%M:%S}"


@jinja2.pass_context
def month(context: jinja2.runtime.Context, moment: Any) -> str:
    if _english(context):
        return str(moment.strftime("%B %Y"))
    return dates.format_skeleton("yMMMM", moment, locale=context["lang"])


def hours_in(code: str, minutes: int) -> str:
    """Minutes as "1 hour", "1.5 hours" (German "1,5 Stunden")."""
    text = hours_text(minutes)
    if code != SOURCE_LANGUAGE:
        text = numbers.format_decimal(minutes / 60, "#,##0.##", locale=code)
    count = 1 if text == "1" else 2
    return translations(code).ngettext("%(hours)s hour", "%(hours)s hours", count) % {"hours": text}


def hours_label(request: Request, minutes: int) -> str:
    return hours_in(language_of(request), minutes)


@jinja2.pass_context
def hours(context: jinja2.runtime.Context, minutes: int) -> str:
    return hours_in(context["lang"], minutes)


def install(environment: jinja2.Environment) -> None:
    """`{% trans %}`, `_()`, `ngettext()` and the date and hours filters, in the request's
    language (each render passes its `i18n`, node/web/responses.py)."""
    environment.add_extension("jinja2.ext.i18n")
    environment.policies["ext.i18n.trimmed"] = True
    environment.install_gettext_callables(  # type: ignore[attr-defined]
        _gettext, _ngettext, newstyle=True
    )
    environment.filters.update(
        day=day,
        day_and_time=day_and_time,
        stamp=stamp,
        month=month,
        hours=hours,
        tr=tr,
        label=label,
    )
