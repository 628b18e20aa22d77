"""A connection to the mail server CONODE_SMTP_URL names: the worker sends through it
(node/notifications/mail.py) and `conode doctor` checks that it answers."""

from __future__ import annotations

import smtplib
import ssl
from urllib.parse import parse_qs, unquote, urlsplit


def where(smtp_url: str) -> str:
    """host:port of the server, as said to an operator (never the password)."""
    parts = urlsplit(smtp_url)
    port = parts.port or (465 if parts.scheme == "smtps" else 25)
    return f"{parts.hostname or 'localhost'}:{port}"


def open_smtp(smtp_url: str, timeout: float) -> smtplib.SMTP:
    """Connected, with STARTTLS and login done when the URL asks for them (blocking: run it
    in a thread). The caller closes it (`with`)."""
    parts = urlsplit(smtp_url)
    host = parts.hostname or "localhost"
    starttls = parse_qs(parts.query).get("starttls", [""])[0] in ("1", "true", "yes")
    if parts.scheme == "smtps":
        client: smtplib.SMTP = smtplib.SMTP_SSL(
            host, parts.port or 465, timeout=timeout, context=ssl.create_default_context()
        )
    else:
        client = smtplib.SMTP(host, parts.port or 25, timeout=timeout)
    try:
        if starttls:
            client.starttls(context=ssl.create_default_context())
        if parts.username:
            client.login(unquote(parts.username), unquote(parts.password or ""))
    except BaseException:
        client.close()
        raise
    return client
