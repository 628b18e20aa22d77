"""What a running node holds for its lifetime: settings, the store, the secret, an HTTP client."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from activitypub.client import FetchPolicy

from .settings import Settings
from .storage import Store


@dataclass(frozen=True)
class Node:
    settings: Settings
    store: Store
    secret: bytes
    http: httpx.AsyncClient
    fetch_policy: FetchPolicy
