"""What a search finds and how it is shown: the words asked for (letters and digits only, so
nothing typed can become query syntax), the kinds and places to look, and a passage of each
thing found with the matching words marked, everything else escaped."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from markupsafe import Markup, escape

from node.context import Node
from node.storage import LinkedPostRow, LocalActorRow, PostRow

from . import html

MAX_TERMS = 8
MAX_TERM = 40
PASSAGE = 240  # characters of text shown around the first match
KINDS = ("posts", "offers", "members")  # what to look for; "" is everything
SCOPES = ("here", "network")  # where: this node, the linked network; "" is both
POST_KINDS = ("blog", "report")
OFFER_KINDS = ("offer", "request")
_WORD = re.compile(r"[^\W_]+")


def terms_of(query: str) -> list[str]:
    """The words to find, lower-cased, each one a prefix: `garden` finds gardening."""
    words = [word.lower()[:MAX_TERM] for word in _WORD.findall(query[:1000])]
    return list(dict.fromkeys(words))[:MAX_TERMS]


@dataclass(frozen=True)
class Hit:
    kind: str  # blog, report, offer, request, member, or a linked post's kind
    title: str
    url: str
    passage: Markup
    host: str  # where it was published


def highlighted(text: str, terms: list[str], width: int = PASSAGE) -> Markup:
    """A passage of `text` around the first match, escaped, the matching words in <mark>."""
    if not terms:
        return Markup(escape(text[:width]))
    pattern = re.compile(
        r"(?<![^\W_])(?:" + "|".join(re.escape(t) for t in terms) + r")[^\W_]*", re.IGNORECASE
    )
    first = pattern.search(text)
    start = max(0, first.start() - width // 3) if first else 0
    passage = text[start : start + width]
    pieces, end = [], 0
    for match in pattern.finditer(passage):
        pieces.append(escape(passage[end : match.start()]))
        pieces.append(Markup("<mark>%s</mark>") % match.group(0))
        end = match.end()
    pieces.append(escape(passage[end:]))
    prefix = "…" if start else ""
    suffix = "…" if start + width < len(text) else ""
    return Markup(prefix) + Markup("").join(pieces) + Markup(suffix)


def _post_hit(node: Node, post: PostRow, terms: list[str]) -> Hit:
    text = f"{post.summary} {html.plain_text(post.content_html)}"
    return Hit(
        post.kind,
        post.title,
        f"/posts/{post.public_id}",
        highlighted(_around(text, post.summary, terms), terms),
        node.settings.host,
    )


def _around(text: str, summary: str, terms: list[str]) -> str:
    """The summary when it holds a match, else the whole text (the passage finds the match)."""
    lowered = summary.lower()
    return summary if any(term in lowered for term in terms) else text


def _member_hit(node: Node, row: LocalActorRow, terms: list[str]) -> Hit:
    about = f"@{row.username}@{node.settings.host} {row.summary}"
    return Hit(
        "member",
        row.display_name,
        f"/@{row.username}",
        highlighted(about, terms),
        node.settings.host,
    )


def _linked_hit(row: LinkedPostRow, terms: list[str]) -> Hit:
    document = json.loads(row.document)
    title = html.plain_text(str(document.get("name") or ""), 200) or "(untitled)"
    summary = html.plain_text(str(document.get("summary") or ""))
    text = f"{summary} {html.plain_text(str(document.get('content') or ''))}"
    url = html.safe_url(document.get("url") if isinstance(document.get("url"), str) else None)
    return Hit(
        row.kind,
        title,
        url or html.safe_url(row.object_id) or "",
        highlighted(_around(text, summary, terms), terms),
        row.origin_host,
    )


async def search(node: Node, query: str, *, kind: str, scope: str) -> dict[str, list[Hit]]:
    """What matches every word of the query, by kind, best first; nothing deleted, suspended
    or not public is in the index (migration 0015)."""
    terms = terms_of(query)
    found: dict[str, list[Hit]] = {name: [] for name in KINDS if kind in ("", name)}
    if not terms:
        return found
    store = node.store
    for name, kinds in (("posts", POST_KINDS), ("offers", OFFER_KINDS)):
        if name not in found:
            continue
        if scope in ("", "here"):
            found[name] += [
                _post_hit(node, p, terms) for p in await store.search_posts(terms, kinds=kinds)
            ]
        if scope in ("", "network"):
            linked = ("post",) if name == "posts" else OFFER_KINDS
            found[name] += [
                _linked_hit(r, terms) for r in await store.search_linked(terms, kinds=linked)
            ]
    if "members" in found and scope in ("", "here"):
        found["members"] = [_member_hit(node, r, terms) for r in await store.search_members(terms)]
    return found
