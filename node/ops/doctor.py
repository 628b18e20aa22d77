"""`conode doctor` and the admin dashboard: is this node whole and working? One `Check` per
question, each a sentence that says what was found and, when something is wrong, what to do:

- database: reachable and migrated to the newest schema;
- secret: the node secret opens every actor's key;
- url: CONODE_URL reaches this very node (WebFinger for the Group through the public URL, then
  the Group actor: its id and public key must be this database's); a warning for http on a
  public host, and for a `conode serve` listening on another port than CONODE_URL names;
- worker: a `conode serve` or `conode worker` has a fresh heartbeat (something works the
  queues);
- queue: deliveries waiting, the oldest of them, inbound activities waiting;
- paused: servers deliveries to which are paused after repeated failures;
- mail: with CONODE_SMTP_URL set, the mail server answers.

"fail" makes the node unhealthy (`conode doctor` exits 1); "warn" is worth reading but the node
works; "skip" says a check could not run because an earlier one failed.
"""

from __future__ import annotations

import asyncio
import ipaddress
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal
from urllib.parse import urlsplit

import httpx

from node.settings import Settings
from node.storage import (
    HEARTBEAT_FRESH,
    DatabaseUrlError,
    Store,
    head_revision,
    redact,
    utcnow,
)

from . import secret_check, smtp, vault

Status = Literal["ok", "warn", "fail", "skip"]
FETCH_TIMEOUT = 10.0
# A delivery or inbound activity due this long ago and still waiting: the workers fall behind.
BEHIND = timedelta(minutes=15)


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    text: str
    figures: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {"check": self.name, "status": self.status, "message": self.text} | (
            {"figures": self.figures} if self.figures else {}
        )


def healthy(checks: list[Check]) -> bool:
    return all(check.status in ("ok", "warn") for check in checks)


def _ago(moment: datetime, now: datetime) -> str:
    seconds = max(0, int((now - moment).total_seconds()))
    if seconds < 120:
        return f"{seconds} s ago"
    if seconds < 7200:
        return f"{seconds // 60} min ago"
    if seconds < 172800:
        return f"{seconds // 3600} h ago"
    return f"{seconds // 86400} days ago"


# --- database ----------------------------------------------------------------------------------


async def _database(store: Store, settings: Settings) -> Check:
    where = redact(settings.database_url)
    revision = await store.schema_revision()
    head = head_revision()
    if revision is None:
        return Check("database", "fail", f"{where} is not initialised: run `conode init`")
    if revision != head:
        return Check(
            "database",
            "fail",
            f"{where} is at schema {revision}, this conode needs {head}: run `conode init` "
            "to migrate it, then restart the node's processes",
        )
    return Check("database", "ok", f"{where} answers, at schema {head} (the newest)")


async def _secret(store: Store, settings: Settings) -> Check:
    path = settings.secret_path
    if not path.exists():
        return Check("secret", "fail", secret_check.missing_sentence(path))
    try:
        opened = await secret_check.check_secret(store, vault.load_secret(path), path)
    except vault.VaultError as exc:
        return Check("secret", "fail", str(exc))
    return Check("secret", "ok", f"the node secret {path} opens all {opened} actors' keys")


# --- the public URL ----------------------------------------------------------------------------


def _is_local(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_private or address.is_link_local


async def _fetch_group(
    settings: Settings, http: httpx.AsyncClient
) -> tuple[str | None, dict[str, Any] | None, str]:
    """(the Group id WebFinger names, the actor document, a problem sentence or "")."""
    resource = f"acct:{settings.group_handle}@{settings.host}"
    finger = f"{settings.url}/.well-known/webfinger"
    try:
        response = await http.get(finger, params={"resource": resource})
    except httpx.HTTPError as exc:
        return None, None, f"cannot reach {finger} ({exc.__class__.__name__}: {exc})"
    if response.status_code != 200:
        return None, None, f"{finger} answers {response.status_code} for {resource}"
    try:
        links = response.json().get("links", [])
        href = next(str(link["href"]) for link in links if link.get("rel") == "self")
    except (ValueError, AttributeError, KeyError, StopIteration, TypeError):
        return None, None, f"{finger} does not answer like a conode (no actor link)"
    try:
        actor = await http.get(href, headers={"Accept": "application/activity+json"})
        document = actor.json() if actor.status_code == 200 else None
    except (httpx.HTTPError, ValueError):
        document = None
    return href, document if isinstance(document, dict) else None, ""


async def _public_url(
    settings: Settings, store: Store | None, http: httpx.AsyncClient | None
) -> Check:
    expected = f"{settings.url}/groups/{settings.group_handle}"
    if http is None:
        async with httpx.AsyncClient(timeout=FETCH_TIMEOUT, follow_redirects=True) as own:
            href, document, problem = await _fetch_group(settings, own)
    else:
        href, document, problem = await _fetch_group(settings, http)
    fix = (
        "set CONODE_URL to this node's public URL, and check that the proxy (or `conode "
        "serve --port`) answers there"
    )
    if problem:
        return Check("url", "fail", f"CONODE_URL {settings.url}: {problem}: {fix}")
    if href != expected or document is None or document.get("id") != expected:
        return Check(
            "url",
            "fail",
            f"CONODE_URL {settings.url} reaches a server whose Group is {href}, not this "
            f"node's {expected}: it points at another server; {fix}",
        )
    group = await store.local_actor(settings.group_handle) if store is not None else None
    served_key = (document.get("publicKey") or {}).get("publicKeyPem")
    if group is not None and served_key != group.public_key_pem:
        return Check(
            "url",
            "fail",
            f"CONODE_URL {settings.url} reaches a conode whose Group has another key than "
            f"this database's: another node answers there; {fix}",
        )
    return Check("url", "ok", f"CONODE_URL {settings.url} reaches this node's Group {expected}")


def _url_warnings(settings: Settings, serve_ports: list[int]) -> list[Check]:
    parts = urlsplit(settings.url)
    host = parts.hostname or ""
    warnings = []
    if parts.scheme == "http" and not _is_local(host):
        warnings.append(
            Check(
                "url",
                "warn",
                f"CONODE_URL {settings.url} uses http on a public host: other servers expect "
                "https; put the node behind a TLS proxy (docs/deploy.md) and set "
                f"CONODE_URL=https://{host}",
            )
        )
    port = parts.port or (443 if parts.scheme == "https" else 80)
    if parts.scheme == "http" and serve_ports and port not in serve_ports:
        listening = ", ".join(str(p) for p in sorted(set(serve_ports)))
        warnings.append(
            Check(
                "url",
                "warn",
                f"CONODE_URL {settings.url} names port {port}, but `conode serve` listens on "
                f"{listening}: links and ids point at port {port}; set CONODE_URL to the port "
                "served, or serve on its port",
            )
        )
    return warnings


# --- the queues --------------------------------------------------------------------------------


async def _workers(store: Store, now: datetime) -> tuple[Check, list[int]]:
    rows = await store.heartbeats_since(now - HEARTBEAT_FRESH)
    ports = [int(row["port"]) for row in rows if row["process"] == "serve" and row.get("port")]
    if not rows:
        return (
            Check(
                "worker",
                "fail",
                f"no `conode serve` or `conode worker` has a heartbeat from the last "
                f"{int(HEARTBEAT_FRESH.total_seconds())} s: nothing is delivered or processed; "
                "start one (`systemctl start conode-worker`, or `conode serve`)",
            ),
            ports,
        )
    running = ", ".join(
        f"conode {row['process']} on {row['host']} (seen {_ago(row['seen_at'], now)})"
        for row in rows
    )
    return Check("worker", "ok", f"running: {running}", {"processes": len(rows)}), ports


async def _queue(store: Store, now: datetime) -> Check:
    out = await store.delivery_queue()
    into = await store.inbound_queue()
    figures = {
        "deliveries_waiting": out["waiting"],
        "oldest_delivery_at": out["oldest_at"].isoformat() if out["oldest_at"] else None,
        "inbound_waiting": into["queued"],
        "oldest_inbound_at": into["oldest_at"].isoformat() if into["oldest_at"] else None,
    }
    oldest = (
        f", the oldest (to {out['oldest_host']}) made {_ago(out['oldest_at'], now)}"
        if out["oldest_at"]
        else ""
    )
    text = (
        f"{out['waiting']} deliveries waiting{oldest}; {into['queued']} inbound activities waiting"
    )
    behind = [
        what
        for what, moment in (("deliveries", out["first_due_at"]), ("inbound", into["oldest_at"]))
        if moment is not None and now - moment > BEHIND
    ]
    if behind:
        return Check(
            "queue",
            "warn",
            f"{text}: {' and '.join(behind)} due more than {int(BEHIND.total_seconds()) // 60} "
            "min ago still wait; start more workers, or read `conode log` for errors",
            figures,
        )
    return Check("queue", "ok", text, figures)


async def _paused(store: Store, now: datetime) -> Check:
    paused = await store.paused_hosts(now)
    if not paused:
        return Check("paused", "ok", "no server is paused", {"paused_hosts": 0})
    listed = ", ".join(
        f"{row['host']} until {row['paused_until']:%H:%M} UTC ({row['failures']} failures)"
        for row in paused[:10]
    )
    more = f" and {len(paused) - 10} more" if len(paused) > 10 else ""
    return Check(
        "paused",
        "warn",
        f"deliveries paused to {listed}{more}: they resume by themselves; "
        "`conode log --deliveries --host HOST` says why",
        {"paused_hosts": len(paused)},
    )


# --- mail --------------------------------------------------------------------------------------


def _ask_mail_server(smtp_url: str) -> None:
    with smtp.open_smtp(smtp_url, FETCH_TIMEOUT) as client:
        client.noop()


async def _mail(settings: Settings, store: Store | None) -> Check:
    if not settings.smtp_url:
        return Check("mail", "ok", "mail is off (CONODE_SMTP_URL unset): nobody is mailed")
    server = smtp.where(settings.smtp_url)
    try:
        await asyncio.to_thread(_ask_mail_server, settings.smtp_url)
    except Exception as exc:  # every way a mail server can fail us is said, not raised
        return Check(
            "mail",
            "fail",
            f"the mail server {server} does not answer ({exc.__class__.__name__}: {exc}): "
            "check CONODE_SMTP_URL, and that this machine may connect and log in there",
        )
    jobs = await store.mail_queue() if store is not None else {}
    waiting, failed = jobs.get("pending", 0), jobs.get("failed", 0)
    text = f"the mail server {server} answers; {waiting} mails waiting, {failed} given up"
    return Check("mail", "ok", text, {"mail_waiting": waiting, "mail_failed": failed})


# --- all of it ---------------------------------------------------------------------------------


async def examine(
    settings: Settings,
    *,
    store: Store | None = None,
    http: httpx.AsyncClient | None = None,
) -> list[Check]:
    """Every check, in order. `store` and `http`: an open store and the client that reaches
    the public URL (the web process's own); without them, they are opened here."""
    own = store is None
    try:
        if store is None:
            store = Store(settings.database_url)
            await store.connect()
    except DatabaseUrlError as exc:
        return await _without_database(
            settings,
            f"{exc}: check CONODE_DATABASE_URL and that "
            "the database server runs and accepts this user",
        )
    try:
        return await _with_database(settings, store, http)
    finally:
        if own:
            await store.disconnect()


async def _without_database(settings: Settings, problem: str) -> list[Check]:
    skipped = [
        Check(name, "skip", "not checked: the database is unreachable")
        for name in ("secret", "worker", "queue", "paused")
    ]
    return [
        Check("database", "fail", problem),
        *skipped,
        await _public_url(settings, None, None),
        await _mail(settings, None),
    ]


async def _with_database(
    settings: Settings, store: Store, http: httpx.AsyncClient | None
) -> list[Check]:
    now = utcnow()
    database = await _database(store, settings)
    if database.status != "ok":
        return [
            database,
            *[
                Check(name, "skip", "not checked: the database is not at the newest schema")
                for name in ("secret", "url", "worker", "queue", "paused")
            ],
            await _mail(settings, None),
        ]
    workers, ports = await _workers(store, now)
    return [
        database,
        await _secret(store, settings),
        await _public_url(settings, store, http),
        *_url_warnings(settings, ports),
        workers,
        await _queue(store, now),
        await _paused(store, now),
        await _mail(settings, store),
    ]
