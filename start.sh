#!/usr/bin/env bash
# Set up and run a node on this machine: virtualenv, install, `conode init` (SQLite, keys, node
# actors), an admin account on first run (its password is printed once), then serve on
# http://127.0.0.1:8000. Safe to run again: it only does what is missing.
set -euo pipefail
cd "$(dirname "$0")"

if [ ! -x .venv/bin/python ]; then
  echo "==> creating virtualenv .venv"
  python3 -m venv .venv
fi
echo "==> installing conode and its dependencies"
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e .

echo "==> conode init"
.venv/bin/conode init

if ! .venv/bin/conode user list --json | .venv/bin/python -c \
    'import json, sys; sys.exit(0 if any(u["admin"] for u in json.load(sys.stdin)) else 1)'; then
  echo "==> creating the admin account"
  .venv/bin/conode user create admin --admin --display-name "Admin"
fi

exec .venv/bin/conode serve "$@"
