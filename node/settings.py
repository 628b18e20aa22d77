"""Node configuration: one frozen value built from the environment (and a `.env` file)."""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from dotenv import dotenv_values

# The event loop `conode serve` runs on (uvicorn's --loop): asyncio's own, not uvloop.
# libuv, under uvloop, accepts one new connection per turn of the loop (since libuv 1.45, pull
# request #3696), and a busy node's turns take tens of milliseconds: a burst of new connections
# (the servers that all fetch a widely boosted post at once) waited in line for up to 1.5 s in
# bench/stampede.py. asyncio accepts every waiting connection in one turn, and the stampede's
# p99 fell from ~400 ms to under 100 ms (docs/benchmarks.md). `conode worker` opens connections
# but accepts none, and keeps uvloop for its deliveries.
SERVE_LOOP = "asyncio"

CommentPolicy = Literal["hold_all", "hold_new", "open"]
COMMENT_POLICIES: tuple[CommentPolicy, ...] = ("hold_all", "hold_new", "open")
LinkBlocks = Literal["suggest", "apply"]

# Documented in docs/operating.md; tests/test_docs.py keeps them in step.
DEFAULTS: dict[str, str] = {
    "CONODE_URL": "http://127.0.0.1:8000",
    "CONODE_DATABASE_URL": "sqlite:///data/conode.db",
    "CONODE_KEYS_DIR": "keys",
    "CONODE_ALLOW_PRIVATE_NETWORKS": "",
    "CONODE_COMMENT_POLICY": "hold_new",
    "CONODE_NAME": "conode",
    "CONODE_RATE_LIMIT": "600",
    "CONODE_GROUP_HANDLE": "community",
    "CONODE_OFFER_CATEGORIES": "care,lifts,gardening,DIY,skills,admin,company",
    "CONODE_AUTHORIZED_FETCH": "",
    "CONODE_LINK_BLOCKS": "suggest",
    "CONODE_SMTP_URL": "",
    "CONODE_MAIL_FROM": "",
    "CONODE_LANGUAGE": "en",
    "CONODE_SIGNING_THREADS": "1",
}
# The web interface's message catalogues, one folder per language (node/web/i18n.py); English
# is the source language and has none.
LOCALES_DIR = Path(__file__).resolve().parent / "locales"
SOURCE_LANGUAGE = "en"
DEFAULT_OFFER_CATEGORIES = tuple(DEFAULTS["CONODE_OFFER_CATEGORIES"].split(","))


class SettingsError(ValueError):
    """A configuration value that cannot work; the message says which and what to do."""


@dataclass(frozen=True)
class Settings:
    url: str
    database_url: str
    keys_dir: Path
    allow_private_networks: bool
    comment_policy: CommentPolicy
    name: str
    rate_limit: int
    group_handle: str
    offer_categories: tuple[str, ...] = DEFAULT_OFFER_CATEGORIES
    authorized_fetch: bool = False  # SECURITY.md, "Authorized fetch"
    link_blocks: LinkBlocks = "suggest"  # what a trusted linked node's blocks do here
    smtp_url: str = ""  # "": no mail at all
    mail_from: str = ""  # "": conode@<host of CONODE_URL>
    language: str = SOURCE_LANGUAGE  # the web pages' language when nothing else decides
    signing_threads: int = 1  # threads beside the event loop that sign deliveries (0: none)

    @property
    def host(self) -> str:
        """Authority as it appears in acct: addresses (host plus non-default port)."""
        parts = urlsplit(self.url)
        default = {"http": 80, "https": 443}[parts.scheme]
        host = (parts.hostname or "").lower()
        return host if parts.port in (None, default) else f"{host}:{parts.port}"

    @property
    def mail_sender(self) -> str:
        return self.mail_from or f"conode@{urlsplit(self.url).hostname}"

    @property
    def secret_path(self) -> Path:
        return self.keys_dir / "node.secret"


def _flag(value: str) -> bool:
    return value.strip().lower() in ("1", "true", "yes", "on")


def _url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SettingsError(
            f"CONODE_URL={value!r} is not an http(s) URL; set it to e.g. https://your.host"
        )
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise SettingsError(f"CONODE_URL={value!r} must be a bare origin, without a path")
    return value.rstrip("/")


def _comment_policy(value: str) -> CommentPolicy:
    for policy in COMMENT_POLICIES:
        if value == policy:
            return policy
    raise SettingsError(
        f"CONODE_COMMENT_POLICY={value!r} is unknown; use one of {', '.join(COMMENT_POLICIES)}"
    )


def _link_blocks(value: str) -> LinkBlocks:
    if value == "apply":
        return "apply"
    if value == "suggest":
        return "suggest"
    raise SettingsError(f"CONODE_LINK_BLOCKS={value!r} is unknown; use suggest or apply")


def _int(name: str, value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise SettingsError(f"{name}={value!r} must be a whole number") from None
    if number < 0:
        raise SettingsError(f"{name}={value!r} must not be negative")
    return number


def _categories(value: str) -> tuple[str, ...]:
    names = tuple(name.strip() for name in value.split(",") if name.strip())
    for name in names:
        if len(name) > 32 or not name.replace("-", "").replace("_", "").isalnum():
            raise SettingsError(
                f"CONODE_OFFER_CATEGORIES: {name!r} is not a category name; use letters, digits,"
                " - or _ (at most 32), separated by commas"
            )
    if not names or len({name.lower() for name in names}) != len(names):
        raise SettingsError("CONODE_OFFER_CATEGORIES needs one or more distinct names")
    return names


def _smtp_url(value: str) -> str:
    if not value:
        return ""
    parts = urlsplit(value)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise SettingsError(
            "CONODE_SMTP_URL must look like smtp://[user:password@]host:port (add ?starttls=1"
            " for STARTTLS) or smtps://… for implicit TLS; leave it unset for no mail"
        )
    try:
        parts.port  # noqa: B018  (raises for a port that is not a number)
    except ValueError:
        raise SettingsError("CONODE_SMTP_URL has a port that is not a number") from None
    return value


def _mail_from(value: str) -> str:
    if value and ("@" not in value or any(c in value for c in "\r\n<>")):
        raise SettingsError(f"CONODE_MAIL_FROM={value!r} must be a bare address, name@host")
    return value


@functools.cache
def interface_languages() -> tuple[str, ...]:
    """The languages the web pages can be shown in: English and every catalogue shipped (read
    once per process: the catalogues ship with the code)."""
    shipped = (p.parent.parent.name for p in LOCALES_DIR.glob("*/LC_MESSAGES/messages.po"))
    return (SOURCE_LANGUAGE, *sorted(shipped))


def _language(value: str) -> str:
    languages = interface_languages()
    if value.lower() not in languages:
        raise SettingsError(
            f"CONODE_LANGUAGE={value!r} has no translation here; use one of {', '.join(languages)}"
        )
    return value.lower()


def load_settings(
    environ: Mapping[str, str] | None = None, *, env_file: Path | None = Path(".env")
) -> Settings:
    """Settings from defaults < `.env` < the process environment (or `environ`)."""
    values = dict(DEFAULTS)
    if env_file is not None and env_file.is_file():
        values.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
    values.update({k: v for k, v in (os.environ if environ is None else environ).items()})
    handle = values["CONODE_GROUP_HANDLE"]
    if not handle.replace("_", "").isalnum():
        raise SettingsError(f"CONODE_GROUP_HANDLE={handle!r} may hold only letters, digits, _")
    return Settings(
        url=_url(values["CONODE_URL"]),
        database_url=values["CONODE_DATABASE_URL"],
        keys_dir=Path(values["CONODE_KEYS_DIR"]),
        allow_private_networks=_flag(values["CONODE_ALLOW_PRIVATE_NETWORKS"]),
        comment_policy=_comment_policy(values["CONODE_COMMENT_POLICY"]),
        name=values["CONODE_NAME"],
        rate_limit=_int("CONODE_RATE_LIMIT", values["CONODE_RATE_LIMIT"]),
        group_handle=handle.lower(),
        offer_categories=_categories(values["CONODE_OFFER_CATEGORIES"]),
        authorized_fetch=_flag(values["CONODE_AUTHORIZED_FETCH"]),
        link_blocks=_link_blocks(values["CONODE_LINK_BLOCKS"]),
        smtp_url=_smtp_url(values["CONODE_SMTP_URL"].strip()),
        mail_from=_mail_from(values["CONODE_MAIL_FROM"].strip()),
        language=_language(values["CONODE_LANGUAGE"].strip()),
        signing_threads=_int("CONODE_SIGNING_THREADS", values["CONODE_SIGNING_THREADS"]),
    )
