"""The design, kept by a test: activitypub/ stands alone; node/ is packages by capability whose
imports flow one way (settings → storage → federation → domains → interfaces → app)."""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Each entry is a top-level module or a package of node/. A module may import from entries on
# lower layers and, inside a package, from its own package; nothing else. New packages and
# top-level modules must be placed here to be allowed.
NODE_LAYERS: list[set[str]] = [
    {"settings", "wording"},  # wording: errors said in English or a page's language
    {"cache"},  # per-process memory: pure
    {"storage"},  # the only SQL
    {"ops"},  # the node secret, backups
    {"context"},  # what a running node holds
    {"notifications"},  # recorded by every domain as things happen: needs only the store
    {"moderation"},  # blocks and comment statuses, asked by the inbox and every handler
    {"federation"},  # our actors, remote actors, delivery: what the domains build on
    {"content"},
    {"offers"},
    {"network"},
    {"accounts"},
    {"inbound"},  # the handler table: calls into every domain
    {"worker"},
    {"web"},  # interfaces: nothing below them imports them
    {"routes"},
    {"app"},
    {"cli"},
]
DOMAINS = {"moderation", "content", "offers", "network", "accounts"}
MAX_TOP_LEVEL_MODULES = 12
ACTIVITYPUB_ALLOWED_THIRD_PARTY = {
    "cryptography",
    "httpx",
    "httpcore",
    "http_sf",
    "aiohttp",
    "yarl",  # aiohttp's URL: the Deliverer parses an inbox URL once and posts that
    "httpx_aiohttp",
}


def _imports(path: Path, package: str) -> Iterator[tuple[str, str | None]]:
    """(absolute module, imported name or None) for every import in a file; relative imports
    are resolved within `package`."""
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, None
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                module = node.module or ""
            else:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - (node.level - 1)])
                module = f"{base}.{node.module}" if node.module else base
            for alias in node.names:
                yield module, alias.name


def _entry(dotted: str) -> str | None:
    """The NODE_LAYERS entry a dotted name under node belongs to (None: node itself)."""
    parts = dotted.split(".")
    return parts[1] if parts[0] == "node" and len(parts) > 1 else None


def _layer_of(entry: str) -> int:
    for index, layer in enumerate(NODE_LAYERS):
        if entry in layer:
            return index
    raise LookupError(entry)


def _node_files(root: Path) -> list[tuple[Path, str, str]]:
    """(file, its NODE_LAYERS entry, the package its relative imports resolve in)."""
    found: list[tuple[Path, str, str]] = []
    node_dir = root / "node"
    for path in sorted(node_dir.rglob("*.py")):
        rel = path.relative_to(node_dir)
        if "alembic" in rel.parts:  # migration scripts run under alembic, outside the app
            continue
        if len(rel.parts) == 1:
            if path.stem != "__init__":
                found.append((path, path.stem, "node"))
        else:
            found.append((path, rel.parts[0], "node." + ".".join(rel.parts[:-1])))
    return found


def _import_targets(path: Path, package: str) -> Iterator[tuple[str, str | None, str | None]]:
    """(absolute module, imported name, the NODE_LAYERS entry it lands in) for node imports."""
    for module, name in _imports(path, package):
        if module == "node" and name is not None:
            target = name if name != "__version__" else None
            yield module, name, target
        elif module.startswith("node."):
            yield module, name, _entry(module)


def layering_violations(root: Path) -> list[str]:
    """Every broken rule in the tree at `root`, as sentences; empty when the design holds."""
    problems: list[str] = []
    for path, entry, package in _node_files(root):
        where = path.relative_to(root)
        try:
            own = _layer_of(entry)
        except LookupError:
            problems.append(f"{where}: node.{entry} is not placed in NODE_LAYERS")
            continue
        bound: dict[str, str] = {}  # a module imported from another package, by its local name
        for module, name, target in _import_targets(path, package):
            if target is None or target == entry:
                continue
            try:
                layer = _layer_of(target)
            except LookupError:
                problems.append(f"{where}: imports node.{target}, which NODE_LAYERS does not place")
                continue
            if layer >= own:
                problems.append(f"{where} ({entry}) imports {module} ({target}): upward/sideways")
            if name is not None and name.startswith("_") and name != "__version__":
                problems.append(f"{where} imports the private name {name} from {module}")
            if name is not None:
                bound[name] = target
        problems.extend(_private_attribute_uses(path, where, bound))
    return problems


def _private_attribute_uses(path: Path, where: Path, bound: dict[str, str]) -> list[str]:
    """`module._name` where `module` came from another package."""
    tree = ast.parse(path.read_text(), filename=str(path))
    return [
        f"{where} uses the private name {node.value.id}.{node.attr} of node.{bound[node.value.id]}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id in bound
        and node.attr.startswith("_")
        and not node.attr.startswith("__")
    ]


def package_graph(root: Path) -> dict[str, set[str]]:
    """Which NODE_LAYERS entries each entry imports, whatever the layers say."""
    graph: dict[str, set[str]] = {}
    for path, entry, package in _node_files(root):
        for _, _, target in _import_targets(path, package):
            if target is not None and target != entry:
                graph.setdefault(entry, set()).add(target)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    visiting: list[str] = []
    done: set[str] = set()

    def visit(entry: str) -> list[str] | None:
        if entry in visiting:
            return [*visiting[visiting.index(entry) :], entry]
        if entry in done:
            return None
        visiting.append(entry)
        for target in sorted(graph.get(entry, ())):
            cycle = visit(target)
            if cycle:
                return cycle
        visiting.pop()
        done.add(entry)
        return None

    for entry in sorted(graph):
        cycle = visit(entry)
        if cycle:
            return cycle
    return None


# --- the rules, on this repository --------------------------------------------------------------


def test_activitypub_imports_only_stdlib_cryptography_and_httpx() -> None:
    stdlib = sys.stdlib_module_names
    for path in sorted((ROOT / "activitypub").glob("*.py")):
        for module, _ in _imports(path, "activitypub"):
            top = module.split(".")[0]
            allowed = top in stdlib or top in ACTIVITYPUB_ALLOWED_THIRD_PARTY
            allowed = allowed or top in ("activitypub", "__future__")
            assert allowed, f"activitypub/{path.name} imports {module}"


def test_node_imports_flow_one_way_and_keep_private_names_private() -> None:
    problems = layering_violations(ROOT)
    assert not problems, "\n".join(problems)


def test_no_cycles_between_node_packages() -> None:
    cycle = find_cycle(package_graph(ROOT))
    assert cycle is None, " → ".join(cycle or [])


def test_node_top_level_is_small() -> None:
    modules = [p.name for p in (ROOT / "node").glob("*.py")]
    assert len(modules) <= MAX_TOP_LEVEL_MODULES, sorted(modules)


def test_every_node_package_says_what_it_owns() -> None:
    for init in sorted((ROOT / "node").rglob("__init__.py")):
        if "alembic" in init.relative_to(ROOT / "node").parts:
            continue
        docstring = ast.get_docstring(ast.parse(init.read_text()))
        assert docstring and len(docstring) > 40, f"{init.relative_to(ROOT)} has no docstring"


def test_the_domains_are_packages_placed_in_the_layers() -> None:
    packages = {p.parent.name for p in (ROOT / "node").glob("*/__init__.py")}
    assert packages >= DOMAINS | {"storage", "federation", "web", "cli"}
    placed = set().union(*NODE_LAYERS)
    assert packages - {"migrations"} <= placed


def test_databases_is_imported_nowhere() -> None:
    # storage runs on SQLAlchemy's asyncio engine (node/storage/database.py); `databases`
    # compiled every statement anew and is no longer a dependency.
    for path, _entry, package in _node_files(ROOT):
        assert not any(m.split(".")[0] == "databases" for m, _ in _imports(path, package)), path


# --- the checks can fail ----------------------------------------------------------------------


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = tmp_path / "node" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


def test_the_layering_check_sees_an_upward_import(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {"storage/__init__.py": "", "storage/bad.py": "from node.web import inbox\n"},
    )
    assert any("upward" in p for p in layering_violations(root))


def test_the_layering_check_sees_an_interface_imported_by_a_domain(tmp_path: Path) -> None:
    root = _tree(tmp_path, {"offers/__init__.py": "", "offers/bad.py": "from ..cli import main\n"})
    assert any("offers/bad.py (offers) imports node.cli" in p for p in layering_violations(root))


def test_the_layering_check_sees_a_private_name_across_packages(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "offers/__init__.py": "",
            "offers/bad.py": (
                "from node.content import publishing\n"
                "from node.content.html import _clean\n"
                "publishing._render()\n"
            ),
        },
    )
    problems = layering_violations(root)
    assert any("private name _clean" in p for p in problems)
    assert any("publishing._render" in p for p in problems)


def test_the_cycle_check_sees_a_cycle(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "content/a.py": "from node.offers import b\n",
            "offers/b.py": "from node.content import a\n",
        },
    )
    assert find_cycle(package_graph(root)) in (
        ["content", "offers", "content"],
        ["offers", "content", "offers"],
    )


def test_an_unplaced_package_is_refused(tmp_path: Path) -> None:
    root = _tree(tmp_path, {"gadgets/__init__.py": "", "gadgets/x.py": "import os\n"})
    assert any("not placed" in p for p in layering_violations(root))
