"""JSON-LD expansion for tests, offline: contexts come from tests/fixtures/contexts/ and any
other URL fails the test. `undefined_terms` lists every term a document uses that its context
does not define: dropped by the processor, or mapped to a blank node by the ActivityStreams
context's `"@vocab": "_:"`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pyld import jsonld

CONTEXTS_DIR = Path(__file__).resolve().parent / "fixtures" / "contexts"
BUNDLED = {
    "https://www.w3.org/ns/activitystreams": "activitystreams.jsonld",
    "https://w3id.org/security/v1": "security-v1.jsonld",
    "https://w3id.org/security/data-integrity/v1": "data-integrity-v1.jsonld",
}


class NotBundled(AssertionError):
    """A context the tests do not carry: expansion would have gone to the network."""


def load_offline(url: str, options: Any = None) -> dict[str, Any]:
    name = BUNDLED.get(url)
    if name is None:
        raise NotBundled(f"{url} is not bundled in tests/fixtures/contexts/")
    document = json.loads((CONTEXTS_DIR / name).read_text())
    return {"contextUrl": None, "documentUrl": url, "document": document}


def expand(document: dict[str, Any]) -> tuple[list[Any], list[str]]:
    """The expanded form and the properties the processor dropped."""
    dropped: list[str] = []
    expanded = jsonld.expand(
        document,
        {"documentLoader": load_offline},
        on_property_dropped=lambda name: dropped.append(str(name)),
    )
    return expanded, dropped


def _is_absolute(iri: str) -> bool:
    return iri.startswith(("http://", "https://"))


def _expanded_problems(value: Any, found: list[str]) -> int:
    """Collect blank-node or relative predicates and types; returns how many properties."""
    if isinstance(value, list):
        return sum(_expanded_problems(item, found) for item in value)
    if not isinstance(value, dict):
        return 0
    count = 0
    for key, item in value.items():
        if key == "@type":
            found.extend(f"type {t}" for t in item if not _is_absolute(t) and "@value" not in value)
        elif not key.startswith("@"):
            count += 1
            if not _is_absolute(key):
                found.append(f"term {key}")
        # a `proof` expands into a named graph (Data Integrity's `@container: @graph`)
        if key in ("@list", "@set", "@graph") or not key.startswith("@"):
            count += _expanded_problems(item, found)
    return count


def _compact_properties(value: Any) -> int:
    """How many properties with a value a compact document has, nested ones included."""
    if isinstance(value, list):
        return sum(_compact_properties(item) for item in value)
    if not isinstance(value, dict):
        return 0
    count = 0
    for key, item in value.items():
        if key in ("@context", "id", "type") or key.startswith("@") or item is None:
            continue
        if key.endswith("Map") and key[: -len("Map")] in value and isinstance(item, dict):
            continue  # a language map (contentMap): its values expand into `content` beside it
        count += 1 + _compact_properties(item)
    return count


def undefined_terms(document: dict[str, Any]) -> list[str]:
    """Every term that does not survive expansion as an absolute IRI; [] when all do."""
    expanded, dropped = expand(document)
    problems = [f"dropped {name}" for name in dropped]
    kept = _expanded_problems(expanded, problems)
    if kept != _compact_properties(document):
        problems.append(f"{_compact_properties(document)} properties in, {kept} out")
    return problems


def predicates(document: dict[str, Any]) -> set[str]:
    """Every property IRI in the expanded form."""
    found: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, list):
            for item in value:
                walk(item)
        elif isinstance(value, dict):
            for key, item in value.items():
                if not key.startswith("@"):
                    found.add(key)
                walk(item)

    walk(expand(document)[0])
    return found
