"""deploy/ works as docs/deploy.md uses it: the systemd units pass `systemd-analyze verify`
(where that tool exists), the proxies' body limit fits the largest form conode accepts and the
docs' proxy snippets say the same as deploy/, and deploy/conode-backup writes a backup that
restores and removes only backups older than its retention."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from node.web.guards import MAX_FORM_BYTES

from .conftest import free_port
from .processes import ServedNode, fresh_database, init_node, node_env

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
UNITS = ["conode-web@.service", "conode-worker.service", "conode-backup.service",
         "conode-backup.timer"]  # fmt: skip
CONODE_BIN = Path(sys.executable).parent / "conode"
PASSPHRASE = "correct horse battery staple"


def test_deploy_has_what_the_guide_names() -> None:
    guide = (ROOT / "docs" / "deploy.md").read_text()
    for name in [*UNITS, "conode.env", "Caddyfile", "nginx-conode.conf", "conode-backup"]:
        assert (DEPLOY / name).is_file(), name
        assert name in guide, f"docs/deploy.md never names deploy/{name}"
    assert os.access(DEPLOY / "conode-backup", os.X_OK)
    env = (DEPLOY / "conode.env").read_text()
    assert re.search(r"^CONODE_URL=https://", env, re.M)


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze here")
def test_the_units_pass_systemd_analyze_verify(tmp_path: Path) -> None:
    # The units as installed, with /srv/conode being this checkout (verify checks that every
    # command exists and is executable); the template as one instance, as systemd runs it.
    for name in UNITS:
        text = (DEPLOY / name).read_text()
        text = text.replace("/srv/conode/.venv/bin/conode", str(CONODE_BIN))
        text = text.replace("/srv/conode/", f"{ROOT}/")
        (tmp_path / name.replace("@.", "@8001.")).write_text(text)
    units = sorted(str(path) for path in tmp_path.iterdir())
    result = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", *units],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "", result.stderr  # no warning either ("ignoring" a line)


def test_each_unit_runs_the_documented_command() -> None:
    web = (DEPLOY / "conode-web@.service").read_text()
    assert "ExecStart=/srv/conode/.venv/bin/conode serve --host 127.0.0.1 --port %i" in web
    worker = (DEPLOY / "conode-worker.service").read_text()
    assert "ExecStart=/srv/conode/.venv/bin/conode worker" in worker
    for text in (web, worker):
        assert "Restart=always" in text
        assert "EnvironmentFile=/etc/conode/conode.env" in text
    timer = (DEPLOY / "conode-backup.timer").read_text()
    assert "Unit=conode-backup.service" in timer and "Persistent=true" in timer


def _megabytes(text: str) -> list[int]:
    return [int(m) for m in re.findall(r"client_max_body_size\s+(\d+)m;", text)]


def test_the_proxies_let_the_largest_form_through_and_the_docs_agree() -> None:
    (limit,) = _megabytes((DEPLOY / "nginx-conode.conf").read_text())
    assert limit * 1024 * 1024 >= MAX_FORM_BYTES
    caddy = (DEPLOY / "Caddyfile").read_text()
    assert "request_body" not in caddy  # Caddy has no body limit unless one is set
    assert "header_up Host {host}" in caddy
    nginx = (DEPLOY / "nginx-conode.conf").read_text()
    assert "proxy_set_header Host $host;" in nginx
    # Every snippet in the README and docs says the same, or the README points to deploy/
    readme = (ROOT / "README.md").read_text()
    assert "docs/deploy.md" in readme
    for path in [ROOT / "README.md", *(ROOT / "docs").glob("*.md")]:
        text = path.read_text()
        assert all(size == limit for size in _megabytes(text)), path.name
        for block in re.findall(r"```(?:nginx)?\n(.*?)```", text, re.S):
            if "proxy_pass" in block:
                assert "proxy_set_header Host $host;" in block, path.name
            if "reverse_proxy" in block:
                assert "request_body" not in block, path.name


def _aged(path: Path, days: float) -> Path:
    path.write_bytes(b"an old backup")
    moment = time.time() - days * 86400
    os.utime(path, (moment, moment))
    return path


def test_the_backup_script_writes_a_backup_that_restores_and_keeps_recent_ones(
    tmp_path: Path,
) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    home = tmp_path / "node"
    home.mkdir()
    with fresh_database(home) as database_url:
        node = ServedNode("A", url, node_env(database_url, home, url), home)
        init_node(node, "ann")
        backups = tmp_path / "backups"
        backups.mkdir()
        old = _aged(backups / "conode-20250101T031500Z.backup", 20)
        recent = _aged(backups / "conode-20250115T031500Z.backup", 2)
        other = _aged(backups / "notes.txt", 40)
        passphrase = tmp_path / "backup.passphrase"
        passphrase.write_text(PASSPHRASE + "\n")
        env = node.env | {
            "BACKUP_DIR": str(backups),
            "BACKUP_KEEP_DAYS": "14",
            "BACKUP_PASSPHRASE_FILE": str(passphrase),
            "CONODE_BIN": str(CONODE_BIN),
        }
        result = subprocess.run(
            [str(DEPLOY / "conode-backup")], env=env, cwd=home, capture_output=True, text=True,
            timeout=120,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        assert f"removed old backup {old}" in result.stdout
        assert not old.exists() and recent.exists() and other.exists()
        (written,) = [p for p in backups.glob("conode-*.backup") if p not in (recent,)]
        # And the new backup restores into an empty node
        target_home = tmp_path / "restored"
        target_home.mkdir()
        with fresh_database(target_home) as target_url:
            target = ServedNode("B", url, node_env(target_url, target_home, url), target_home)
            restored = target.run("restore", str(written), stdin=PASSPHRASE + "\n")
            assert restored.returncode == 0, restored.stderr
            assert [m["username"] for m in target.json("user", "list")] == ["ann"]


def test_the_backup_script_refuses_a_bad_retention_with_a_sentence(tmp_path: Path) -> None:
    env = os.environ | {"BACKUP_DIR": str(tmp_path), "BACKUP_KEEP_DAYS": "0"}
    result = subprocess.run(
        [str(DEPLOY / "conode-backup")], env=env, capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 2
    assert "must be a whole number of days, 1 or more" in result.stderr
