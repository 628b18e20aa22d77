"""The docs stand alone and keep up: every setting, URL and command is documented in
docs/operating.md; the README keeps to a first look and points there; nothing points outside
the repository."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from node.cli.main import build_parser
from node.routes import ROUTES
from node.settings import DEFAULTS

ROOT = Path(__file__).resolve().parent.parent
OPERATING = (ROOT / "docs" / "operating.md").read_text()
README = (ROOT / "README.md").read_text()


def _params(text: str) -> str:
    return re.sub(r"\{[^}]*\}", "{}", text)


def test_every_setting_is_in_the_configuration_table() -> None:
    for name in DEFAULTS:
        assert f"| `{name}` |" in OPERATING, f"{name} is missing from docs/operating.md"


def test_every_route_is_documented() -> None:
    undocumented = []
    for route in ROUTES:
        path = getattr(route, "path", "")
        if path == "/" or path in ("/about/node", "/authorize_interaction"):
            continue  # pages for people, linked from the pages themselves
        # Parameter names may differ; collections are documented once as `…/outbox` etc.
        shape = _params(path.removesuffix("/{collection}"))
        if shape not in _params(OPERATING):
            undocumented.append(path)
    assert not undocumented, f"routes missing from docs/operating.md: {undocumented}"


def _commands(parser: argparse.ArgumentParser, prefix: str) -> list[str]:
    """Every command line the parser knows: `conode user create`, `conode links trust`, …"""
    found: list[str] = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found.append(f"{prefix} {name}")
                found.extend(_commands(sub, f"{prefix} {name}"))
    return found


def _documented(command: str) -> bool:
    """`conode comments approve` is documented by a line naming `conode comments` and then
    `approve` (the reference lists sibling actions on one line, separated by `|`)."""
    words = command.split()
    for line in OPERATING.splitlines():
        names_command = line.startswith(" ".join(words[:2]) + " ") or line == " ".join(words[:2])
        names_action = len(words) == 2 or re.search(rf"(^|[\s|]){re.escape(words[2])}(\s|$)", line)
        if names_command and names_action:
            return True
    return False


def test_every_command_is_in_the_reference() -> None:
    commands = _commands(build_parser(), "conode")
    assert "conode links suggestions" in commands  # the walk reaches nested actions
    missing = [command for command in commands if not _documented(command)]
    assert not missing, f"commands missing from docs/operating.md: {missing}"


def test_the_readme_points_to_the_docs_it_names() -> None:
    for target in re.findall(r"\]\(([^)#]+\.md)\)", README):
        assert (ROOT / target).is_file(), f"README.md links to {target}, which does not exist"
    assert "docs/operating.md" in README


def test_nothing_points_outside_the_repository() -> None:
    texts = [*ROOT.glob("*.md"), *(ROOT / "docs").glob("*.md"), *(ROOT / "node").rglob("*.py")]
    for path in texts:
        assert "../shared" not in path.read_text(), f"{path.relative_to(ROOT)} points at ../shared"


def test_what_test_sh_says_of_the_browser_tests_is_what_they_do() -> None:
    """Without axe-core the accessibility checks fail (they are never skipped for it), and
    ./test.sh and the README say so; without Chromium the browser tests are skipped."""
    conftest = (ROOT / "tests" / "browser" / "conftest.py").read_text()
    flow = (ROOT / "tests" / "browser" / "test_web_flow.py").read_text()
    test_sh = (ROOT / "test.sh").read_text()
    assert (
        "assert AXE.exists()" in flow
        and "skip" not in flow.split("def serious_violations")[1][:300]
    )
    assert 'pytest.skip("no /usr/bin/chromium' in conftest
    assert "accessibility checks will FAIL" in test_sh
    assert "the browser tests are skipped" in test_sh
    assert "accessibility tests among them fail" in README
