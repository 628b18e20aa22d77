"""Each web process keeps the comment lists of recently viewed posts rendered, as anonymous
visitors see them: on a post with hundreds of comments, fetching them with their authors and
rendering them is nearly all of what a page view costs.

An entry is good for one version of the post's comments: `posts.comments_version`, bumped in
the transaction of every change to what the list shows (node/storage/content.py), and read
with the post row on every view. So any number of `conode serve` processes on any number of
machines never show a list older than the database's, without telling each other anything.
Nothing per visitor is kept here: signed-in visitors get reply forms with their CSRF token, so
their list is rendered for them on each request. A list is kept per language it was rendered
in (node/web/i18n.py): the words around the comments are translated.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

CHARACTERS_KEPT = 16_000_000  # ~16 MB of markup; a 200-comment list renders to ~120 KB


@dataclass(frozen=True)
class RenderedComments:
    version: int
    html: str
    count: int  # comments on the post, on every page
    pages: int = 1  # pages of threads (node/content/threads.py)


class CommentCache:
    """The most recently viewed posts' rendered comment pages, by post row id, page and
    language, up to a size."""

    def __init__(self, characters: int = CHARACTERS_KEPT) -> None:
        self._budget = characters
        self._kept = 0
        self._entries: OrderedDict[tuple[int, int, str], RenderedComments] = OrderedDict()

    def get(
        self, post_id: int, version: int, page: int = 1, language: str = "en"
    ) -> RenderedComments | None:
        entry = self._entries.get((post_id, page, language))
        if entry is None or entry.version != version:
            return None
        self._entries.move_to_end((post_id, page, language))
        return entry

    def put(
        self, post_id: int, entry: RenderedComments, page: int = 1, language: str = "en"
    ) -> None:
        old = self._entries.pop((post_id, page, language), None)
        self._kept -= len(old.html) if old else 0
        if len(entry.html) > self._budget:
            return
        self._entries[(post_id, page, language)] = entry
        self._kept += len(entry.html)
        while self._kept > self._budget:
            _, evicted = self._entries.popitem(last=False)
            self._kept -= len(evicted.html)
