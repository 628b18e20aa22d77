"""The README documents every setting and every public URL the node routes."""

from __future__ import annotations

import re
from pathlib import Path

from node.routes import ROUTES
from node.settings import DEFAULTS


def _params(text: str) -> str:
    return re.sub(r"\{[^}]*\}", "{}", text)


README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


def test_every_setting_is_in_the_readme_table() -> None:
    for name in DEFAULTS:
        assert f"| `{name}` |" in README, f"{name} is missing from README.md's configuration table"


def test_every_route_is_documented() -> None:
    undocumented = []
    for route in ROUTES:
        path = getattr(route, "path", "")
        if path == "/" or path in ("/about/node", "/authorize_interaction"):
            continue  # pages for people, linked from the pages themselves
        # Parameter names may differ; collections are documented once as `…/outbox` etc.
        shape = _params(path.removesuffix("/{collection}"))
        if shape not in _params(README):
            undocumented.append(path)
    assert not undocumented, f"routes missing from README.md: {undocumented}"
