"""Hashtags and mentions in members' writing: found by Mastodon's rules, and made into the
links Mastodon itself writes, so they read the same here, in Mastodon and in any client:
`<a href=".../tags/x" class="mention hashtag" rel="tag">#<span>x</span></a>` and
`<span class="h-card"><a href="profile" class="u-url mention">@<span>name</span></a></span>`.

Only text outside code and outside links is linked; a mention whose account could not be
found stays text (node/content/mentions.py resolves them before the post is rendered)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from html import escape
from urllib.parse import quote

from markdown_it.token import Token

# Mastodon's hashtag rules (app/models/concerns/tag/naming.rb): word characters and the
# separators below, at least one letter; older Mastodon's HASHTAG_RE refuses a `#` right after
# a word character, `/` or `)`. We also refuse `##tag` and `&#x27;`-style entities.
_HASHTAG_SEPARATORS = "_\u00b7\u30fb\u200c"
_HASHTAG_START_RE = re.compile(r"(?<![\w/)#&])[#\uff03]")
_NOT_PROSE_RE = re.compile(
    r"```.*?```|~~~.*?~~~|`[^`\n]*`"  # code: `#include` is not a tag
    r"|[a-zA-Z][a-zA-Z0-9+.-]*://\S*"  # URLs: http://x/#frag
    r"|\]\([^)\s]*",  # Markdown link targets: [see](#section)
    re.DOTALL,
)


def _is_hashtag_char(char: str) -> bool:
    return char.isalnum() or char in _HASHTAG_SEPARATORS or unicodedata.category(char)[0] == "M"


def _hashtag_at(text: str, start: int) -> str | None:
    end = start
    while end < len(text) and _is_hashtag_char(text[end]):
        end += 1
    name = text[start:end].rstrip(_HASHTAG_SEPARATORS[1:])
    return name if any(char.isalpha() for char in name) else None


def hashtags(text: str) -> list[str]:
    """Hashtags in Markdown or plain text, without `#`, first spelling kept, case-insensitive."""
    prose = _NOT_PROSE_RE.sub(" ", text)
    found: dict[str, str] = {}
    for match in _HASHTAG_START_RE.finditer(prose):
        name = _hashtag_at(prose, match.end())
        if name is not None:
            found.setdefault(name.casefold(), name)
    return list(found.values())


_MENTION_RE = re.compile(
    r"(?<![\w@/])@([A-Za-z0-9_][A-Za-z0-9_.-]*)@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*(?::\d{1,5})?)"
)
_TAG_REL_RE = re.compile(r'(<a href="[^"]*" class="mention hashtag") rel="[^"]*"')


def _masked(text: str) -> str:
    """The text with code and URLs blanked out, the same length (offsets stay valid)."""
    return _NOT_PROSE_RE.sub(lambda match: " " * len(match[0]), text)


def mentions(text: str) -> list[str]:
    """`@name@host` handles in Markdown or plain text, first spelling kept, case-insensitive."""
    found: dict[str, str] = {}
    for match in _MENTION_RE.finditer(_masked(text)):
        handle = f"@{match[1].rstrip('.')}@{match[2]}"
        found.setdefault(handle.lower(), handle)
    return list(found.values())


@dataclass(frozen=True)
class Mentioned:
    handle: str  # @name@host
    actor_id: str
    url: str  # their profile page, where the link goes


@dataclass(frozen=True)
class Links:
    """What to link in a text: hashtags to `tags_url`/name, and these accounts by handle."""

    tags_url: str
    mentioned: dict[str, Mentioned] = field(default_factory=dict)  # by handle, lower-cased


def _hashtag_html(links: Links, name: str) -> str:
    href = f"{links.tags_url}/{quote(name.lower())}"
    return (
        f'<a href="{escape(href)}" class="mention hashtag" rel="tag">'
        f"#<span>{escape(name)}</span></a>"
    )


def _mention_html(who: Mentioned) -> str:
    name = who.handle.split("@")[1]
    return (
        f'<span class="h-card"><a href="{escape(who.url)}" class="u-url mention">'
        f"@<span>{escape(name)}</span></a></span>"
    )


def _spans(text: str, links: Links) -> list[tuple[int, int, str]]:
    """(start, end, HTML) of each hashtag and known mention in the text, in order."""
    prose = _masked(text)
    spans = []
    for match in _HASHTAG_START_RE.finditer(prose):
        name = _hashtag_at(prose, match.end())
        if name is not None:
            spans.append((match.start(), match.end() + len(name), _hashtag_html(links, name)))
    for match in _MENTION_RE.finditer(prose):
        handle = f"@{match[1].rstrip('.')}@{match[2]}"
        who = links.mentioned.get(handle.lower())
        if who is not None:
            spans.append((match.start(), match.start() + len(handle), _mention_html(who)))
    spans.sort()
    return [s for i, s in enumerate(spans) if i == 0 or s[0] >= spans[i - 1][1]]


def _linked(token: Token, links: Links) -> list[Token]:
    pieces, end = [], 0
    for start, stop, markup in _spans(token.content, links):
        pieces.append(Token("text", "", 0, content=token.content[end:start]))
        pieces.append(Token("html_inline", "", 0, content=markup))
        end = stop
    if not pieces:
        return [token]
    pieces.append(Token("text", "", 0, content=token.content[end:]))
    return pieces


def link_tokens(tokens: list[Token], links: Links) -> None:
    """Link hashtags and mentions in the parsed Markdown's text, never inside a link."""
    for token in tokens:
        if token.type != "inline" or not token.children:
            continue
        children: list[Token] = []
        depth = 0
        for child in token.children:
            depth += {"link_open": 1, "link_close": -1}.get(child.type, 0)
            children += _linked(child, links) if child.type == "text" and depth == 0 else [child]
        token.children = children


def tag_rel(clean_html: str) -> str:
    """Put back `rel="tag"` on our hashtag links (the sanitiser writes one `rel` on every
    link); markup from a member cannot carry these classes, so only ours match."""
    return _TAG_REL_RE.sub(r'\1 rel="tag"', clean_html)
