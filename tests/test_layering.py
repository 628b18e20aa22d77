"""The design, kept by a test: activitypub/ stands alone; inside node/ imports flow one way."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# A module may import from modules on lower layers only (STYLE.md: settings → storage → domain
# modules → endpoints → routes → app → cli). New modules must be placed here to be allowed.
NODE_LAYERS: list[set[str]] = [
    {"settings", "html", "limits", "security_headers", "ratelimit", "sqlite_connection", "visits"},
    {"badges", "key_cache", "comment_cache"},
    {"offer_terms"},
    {"schema"},
    {"storage"},
    {"dump"},
    {"vault", "passwords", "sessions", "backup"},
    {"actors"},
    {"context"},
    {"retry_policy"},
    {"delivery"},
    {"remote"},
    {"moderation", "uploads"},
    {"documents"},
    {"exchanges"},
    {"remote_agreements"},
    {"links"},
    {"sharing", "shared_blocks"},
    {"link_checks"},
    {"activities", "publishing", "following", "comment_queue", "threads", "interaction"},
    {"offers"},
    {"matching"},
    {"ledger"},
    {"feeds", "demo", "network", "accounts"},
    {"worker"},
    {"web"},
    {"guards"},
    {"discovery", "actor_views", "inbox", "post_views", "secure_fetch", "offer_pages"},
    {
        "auth_views",
        "member_views",
        "admin_views",
        "admin_pages",
        "public_views",
        "offer_views",
        "network_views",
        "link_pages",
    },
    {"pages"},
    {"account_views"},
    {"routes"},
    {"app"},
    {"cli_content", "cli_moderation", "cli_backup"},
    {"cli_demo", "cli_offers", "cli_links"},
    {"cli"},
]
ACTIVITYPUB_ALLOWED_THIRD_PARTY = {
    "cryptography",
    "httpx",
    "httpcore",
    "http_sfv",
    "aiohttp",
    "httpx_aiohttp",
}


def _imports(path: Path, package: str) -> set[str]:
    """Absolute dotted names a module imports, relative imports resolved within `package`."""
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0 and node.module:
                names.add(node.module)
                names.update(f"{node.module}.{alias.name}" for alias in node.names)
            elif node.level > 0:
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                if node.module is None:
                    names.update(f"{parent}.{alias.name}" for alias in node.names)
                else:
                    names.add(f"{parent}.{node.module}")
    return names


def _layer_of(module: str) -> int:
    for index, layer in enumerate(NODE_LAYERS):
        if module in layer:
            return index
    raise AssertionError(f"node/{module}.py is not placed in NODE_LAYERS (tests/test_layering.py)")


def test_activitypub_imports_only_stdlib_cryptography_and_httpx() -> None:
    import sys

    stdlib = sys.stdlib_module_names
    for path in sorted((ROOT / "activitypub").glob("*.py")):
        for name in _imports(path, "activitypub"):
            top = name.split(".")[0]
            allowed = top in stdlib or top in ACTIVITYPUB_ALLOWED_THIRD_PARTY
            allowed = allowed or top == "activitypub" or name == "__future__"
            assert allowed, f"activitypub/{path.name} imports {name}"


def _node_modules() -> list[tuple[Path, str, str]]:
    """(file, the layer name it belongs to, the package its relative imports resolve in).
    A subpackage (node/storage/) is one layer: its files share their package's place."""
    found: list[tuple[Path, str, str]] = []
    for path in sorted((ROOT / "node").glob("*.py")):
        if path.stem != "__init__":
            found.append((path, path.stem, "node"))
    for package in sorted(p for p in (ROOT / "node").iterdir() if (p / "__init__.py").exists()):
        if package.name == "migrations":
            continue
        for path in sorted(package.glob("*.py")):
            found.append((path, package.name, f"node.{package.name}"))
    return found


def test_node_imports_flow_one_way() -> None:
    for path, layer_name, package in _node_modules():
        own = _layer_of(layer_name)
        for name in _imports(path, package):
            parts = name.split(".")
            if parts[0] != "node" or len(parts) < 2 or parts[1] in ("__version__", "migrations"):
                continue
            if parts[1] == layer_name and package != "node":
                continue  # a subpackage's modules import each other freely
            target = _layer_of(parts[1])
            assert target < own, (
                f"node/{path.relative_to(ROOT / 'node')} (layer {own}) imports node.{parts[1]} "
                f"({target})"
            )


def test_storage_package_is_seen_by_the_layering_check() -> None:
    names = {(path.name, layer) for path, layer, _ in _node_modules()}
    assert ("content.py", "storage") in names


def test_the_layering_check_sees_a_violation(tmp_path: Path) -> None:
    bad = tmp_path / "storage.py"
    bad.write_text("from .cli import main\nfrom node import app\n")
    assert {"node.cli", "node.app"} <= _imports(bad, "node")
    assert _layer_of("cli") > _layer_of("storage")


def test_databases_is_confined_to_storage() -> None:
    for path in sorted((ROOT / "node").rglob("*.py")):
        if "storage" in path.relative_to(ROOT / "node").parts:
            continue
        names = _imports(path, "node")
        assert not any(n.split(".")[0] == "databases" for n in names), path
