#!/usr/bin/env bash
# Set up and run the whole test suite: virtualenv, install with test extras, pytest.
# On SQLite by default; set CONODE_TEST_DATABASE_URL=postgresql://... to run it on PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")"

if [ ! -x .venv/bin/python ]; then
  echo "==> creating virtualenv .venv"
  python3 -m venv .venv
fi
echo "==> installing conode with test dependencies"
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[test]'

echo "==> pytest (database: ${CONODE_TEST_DATABASE_URL:-SQLite})"
exec .venv/bin/python -m pytest "$@"
