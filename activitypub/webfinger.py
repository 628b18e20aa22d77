"""WebFinger (RFC 7033): acct parsing, JRD documents for our actors, host-meta."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote, urlsplit
from xml.sax.saxutils import escape

from .vocab import ACTIVITY_JSON, PROFILE_PAGE_REL, SUBSCRIBE_REL, Document

# RFC 7565 leaves the userpart open; we accept what Mastodon accepts for remote accounts.
_ACCT = re.compile(
    r"^@?(?P<user>[A-Za-z0-9_.~!$&'()*+,;=%-]+)@(?P<host>[A-Za-z0-9.-]+(:\d{1,5})?)$"
)


class WebFingerError(ValueError):
    """A resource that is not a usable account address."""


@dataclass(frozen=True)
class Acct:
    user: str
    host: str

    def __str__(self) -> str:
        return f"acct:{self.user}@{self.host}"

    @property
    def handle(self) -> str:
        return f"@{self.user}@{self.host}"


def parse_acct(resource: str) -> Acct:
    """Parse `acct:user@host`, `user@host` or `@user@host` (host may carry a port)."""
    text = resource.strip()
    if text.lower().startswith("acct:"):
        text = text[5:]
    match = _ACCT.match(text)
    if match is None:
        raise WebFingerError(f"not an account address: {resource!r}")
    return Acct(user=match.group("user"), host=match.group("host").lower())


def host_of(url: str) -> str:
    """The authority of a URL as WebFinger writes it: host plus any non-default port."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:  # a hostile id such as https://x:99999/ names no usable authority
        return ""
    host = (parts.hostname or "").lower()
    default_port = {"http": 80, "https": 443}.get(parts.scheme)
    if port is not None and port != default_port:
        return f"{host}:{port}"
    return host


@dataclass(frozen=True)
class JrdLinks:
    actor_id: str
    profile_url: str
    subscribe_template: str


def jrd(acct: Acct, links: JrdLinks, aliases: list[str]) -> Document:
    """The JRD Mastodon expects: subject, aliases, self/profile-page/subscribe links."""
    return {
        "subject": str(acct),
        "aliases": aliases,
        "links": [
            {"rel": "self", "type": ACTIVITY_JSON, "href": links.actor_id},
            {"rel": PROFILE_PAGE_REL, "type": "text/html", "href": links.profile_url},
            {"rel": SUBSCRIBE_REL, "template": links.subscribe_template},
        ],
    }


def host_meta_xrd(base_url: str) -> str:
    """host-meta with an lrdd template; Mastodon falls back to it when WebFinger fails."""
    template = escape(f"{base_url}/.well-known/webfinger?resource={{uri}}", {'"': "&quot;"})
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<XRD xmlns="http://docs.oasis-open.org/ns/xri/xrd-1.0">\n'
        f'  <Link rel="lrdd" template="{template}"/>\n'
        "</XRD>\n"
    )


def webfinger_url(acct: Acct, scheme: str = "https") -> str:
    return f"{scheme}://{acct.host}/.well-known/webfinger?resource={quote(str(acct), safe=':@')}"


def self_link(document: Document) -> str | None:
    """The ActivityPub actor id a JRD points at, if any."""
    for link in document.get("links", []):
        if not isinstance(link, dict) or link.get("rel") != "self":
            continue
        media_type = str(link.get("type", ""))
        href = link.get("href")
        if isinstance(href, str) and ("activity+json" in media_type or "ld+json" in media_type):
            return href
    return None
