"""Sanitising and rendering: the one place HTML from members and strangers is made safe.

Two allowlists, both applied with nh3 (ammonia):

- Remote HTML (a Mastodon reply's ``content``) keeps only ``ALLOWED_TAGS``, the tags Mastodon
  itself lets through (PROTOCOL.md, "How Mastodon shows what we publish"), plus the microformat
  classes Mastodon puts on mentions, hashtags and shortened links.
- Members' Markdown is rendered with markdown-it-py (CommonMark, raw HTML escaped) and kept to
  ``POST_ALLOWED_TAGS``: the same set plus ``h2``-``h4``, ``hr`` and ``img`` (``src``, ``alt``,
  ``title``; ``src`` must be http(s)). Headings are clamped into h2-h4 (the page and Mastodon's
  Article preview use the post's ``name`` as the title); tables are not enabled because nothing
  in either allowlist (or Mastodon's) could show them.

Relative URLs are dropped in both: the HTML federates, and on another server a relative link
points at the wrong host. Everything else here turns HTML or Markdown into plain text or hashtags.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from functools import cache

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token

from . import autolink
from .autolink import Links
from .autolink import hashtags as hashtags  # where publishing and the CLI look for it

# PROTOCOL.md: the HTML that survives Mastodon's sanitiser.
ALLOWED_TAGS: frozenset[str] = frozenset(
    {"p", "span", "br", "a", "del", "pre", "code", "em", "strong", "b", "i", "u"}
    | {"ul", "ol", "li", "blockquote"}
)
POST_ALLOWED_TAGS: frozenset[str] = ALLOWED_TAGS | {"h2", "h3", "h4", "hr", "img"}
# The classes Mastodon writes into status HTML (app/lib/text_formatter.rb): mentions are
# `<span class="h-card"><a class="u-url mention">`, hashtags `<a class="mention hashtag">`, long
# links `<span class="invisible">`/`<span class="ellipsis">`.
MICROFORMAT_CLASSES: frozenset[str] = frozenset(
    {"h-card", "u-url", "mention", "hashtag", "invisible", "ellipsis"}
)
URL_SCHEMES: frozenset[str] = frozenset({"http", "https", "mailto"})
COMMENT_LINK_REL = "nofollow noopener noreferrer ugc"
POST_LINK_REL = "noopener noreferrer"
DROPPED_WITH_CONTENT: frozenset[str] = frozenset({"script", "style"})

# nh3 quirks: unless `attributes` has a "*" entry, ammonia keeps its generic `lang` and `title`
# on every tag; listing `class` in `attributes` for a tag that also has `allowed_classes` makes
# ammonia panic (pyo3 PanicException, a BaseException); listing `rel` while `link_rel` is set is
# a ValueError. So `class` is only in `allowed_classes` and `rel` is always written by link_rel.
_COMMENT_CLEANER = nh3.Cleaner(
    tags=ALLOWED_TAGS,
    clean_content_tags=DROPPED_WITH_CONTENT,
    attributes={"*": set(), "a": {"href"}},
    allowed_classes={"a": MICROFORMAT_CLASSES, "span": MICROFORMAT_CLASSES},
    strip_comments=True,
    link_rel=COMMENT_LINK_REL,
    url_schemes=URL_SCHEMES,
    url_relative="deny",
)


def _only_web_images(tag: str, attribute: str, value: str) -> str | None:
    """Keep an img src only when it is http(s): no mailto:, no data: images in posts."""
    if tag == "img" and attribute == "src":
        return value if value.lower().startswith(("http://", "https://")) else None
    return value


_POST_CLEANER = nh3.Cleaner(
    tags=POST_ALLOWED_TAGS,
    clean_content_tags=DROPPED_WITH_CONTENT,
    attributes={"*": set(), "a": {"href", "title"}, "img": {"src", "alt", "title"}},
    # Markdown cannot write a class: only our own hashtag and mention links carry these
    allowed_classes={"a": MICROFORMAT_CLASSES, "span": MICROFORMAT_CLASSES},
    attribute_filter=_only_web_images,
    strip_comments=True,
    link_rel=POST_LINK_REL,
    url_schemes=URL_SCHEMES,
    url_relative="deny",
)


def safe_url(url: str | None) -> str | None:
    """A URL fit for an href on our pages: http(s) only, so no javascript:, data: or vbscript:
    (in any case, with any whitespace or control characters a browser would skip)."""
    if not url:
        return None
    squeezed = "".join(char for char in url if char > " ").lower()
    return url.strip() if squeezed.startswith(("http://", "https://")) else None


_IMG_RE = re.compile(r"<img\b([^>]*)>")
_ATTRIBUTE_RE = re.compile(r'(src|alt)="([^"]*)"')


def without_remote_images(clean_html: str, own_origin: str) -> str:
    """Sanitised HTML with every image not on our own origin turned into a link to it, so a
    page never makes a reader's browser call another server without the reader choosing to.
    Works on sanitiser output, whose attributes are always double-quoted and escaped."""

    def unlink(match: re.Match[str]) -> str:
        attributes = dict(_ATTRIBUTE_RE.findall(match[1]))
        src = attributes.get("src", "")
        if src.startswith(own_origin + "/"):
            return match[0]
        label = attributes.get("alt") or "image"
        return f'<a href="{src}" rel="{COMMENT_LINK_REL}">[{label}]</a>' if src else ""

    return _IMG_RE.sub(unlink, clean_html)


def sanitize_comment(remote_html: str) -> str:
    """Remote HTML (a reply's content) reduced to what Mastodon itself would show."""
    return _COMMENT_CLEANER.clean(remote_html)


@cache
def _markdown() -> MarkdownIt:
    # "html": False escapes raw HTML in the source. Linkify would need linkify-it-py,
    # which is not a dependency; <https://…> autolinks still work.
    return MarkdownIt("commonmark", {"html": False}).enable(["strikethrough"])


def _retag(tokens: Sequence[Token]) -> None:
    """Clamp headings into h2-h4 and render ~~x~~ as <del> (Mastodon keeps del, not s)."""
    for token in tokens:
        if token.type in ("heading_open", "heading_close"):
            token.tag = f"h{min(max(int(token.tag[1]), 2), 4)}"
        elif token.type in ("s_open", "s_close"):
            token.tag = "del"
        if token.children:
            _retag(token.children)


def render_markdown(text: str, links: Links | None = None) -> str:
    """A member's Markdown as HTML fit to publish and federate; with `links`, hashtags and
    resolved mentions become the links Mastodon writes (node/content/autolink.py)."""
    md = _markdown()
    tokens = md.parse(text)
    _retag(tokens)
    if links is not None:
        autolink.link_tokens(tokens, links)
    clean = _POST_CLEANER.clean(md.renderer.render(tokens, md.options, {}))
    return autolink.tag_rel(clean) if links is not None else clean


# A space before each block-level tag, so "<p>a</p><p>b</p>" reads "a b", not "ab".
_BLOCK_TAG_RE = re.compile(
    r"<(?=/?(?:p|br|hr|li|ul|ol|h[1-6]|blockquote|pre|div|tr|td|th|img)\b)", re.IGNORECASE
)
_TRAILING_PUNCTUATION = " ,;:.-\u2013\u2014"


def _truncate(text: str, limit: int) -> str:
    """Cut text to at most `limit` characters at a word boundary, ending with "…" if cut."""
    if len(text) <= limit:
        return text
    if limit < 1:
        return ""
    cut = text[: limit - 1]
    if not text[limit - 1].isspace():
        head, space, _ = cut.rpartition(" ")
        if space and head.strip():  # a single over-long word is cut mid-word
            cut = head
    return cut.rstrip(_TRAILING_PUNCTUATION) + "\u2026"


def plain_text(fragment: str, limit: int | None = None) -> str:
    """HTML as one line of plain text (not HTML: escape it before putting it in a page)."""
    spaced = _BLOCK_TAG_RE.sub(" <", fragment)
    text = html.unescape(nh3.clean(spaced, tags=set(), clean_content_tags=DROPPED_WITH_CONTENT))
    text = " ".join(text.split())
    return text if limit is None else _truncate(text, limit)


def summary_from_markdown(text: str, limit: int = 280) -> str:
    """A short plain-language summary: the first top-level paragraph, as plain text.

    Text with no paragraph of its own (only a list, a quote, a heading) is summarised whole.
    """
    md = _markdown()
    tokens = md.parse(text)
    for index, token in enumerate(tokens):
        if token.type == "paragraph_open" and token.level == 0:
            # paragraph_open, inline, paragraph_close
            paragraph = md.renderer.render(tokens[index : index + 3], md.options, {})
            summary = plain_text(paragraph, limit)
            if summary:
                return summary
    return plain_text(render_markdown(text), limit)
