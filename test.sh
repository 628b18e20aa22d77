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

# The browser tests (tests/browser/) drive Debian's Chromium with Playwright and run axe-core
# from npm inside the page. Never `playwright install`: browser downloads do not work here.
if [ ! -x /usr/bin/chromium ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "==> installing chromium (Debian package) for the browser tests"
  apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null
fi
if [ ! -f tests/browser/node_modules/axe-core/axe.min.js ] && command -v npm >/dev/null; then
  echo "==> installing axe-core (npm) for the accessibility checks"
  npm ci --prefix tests/browser --no-audit --no-fund --silent
fi
# What the browser tests will do (tests/browser/conftest.py): skipped without Chromium outside
# CI; with Chromium, the accessibility checks need axe-core and fail without it.
if [ ! -x /usr/bin/chromium ]; then
  echo "==> no /usr/bin/chromium: the browser tests are skipped (required under CI=true)"
elif [ ! -f tests/browser/node_modules/axe-core/axe.min.js ]; then
  echo "==> no axe-core (npm is missing): the browser tests' accessibility checks will FAIL;" \
    "install npm (apt-get install npm) and run ./test.sh again"
fi

echo "==> pytest (database: ${CONODE_TEST_DATABASE_URL:-SQLite})"
exec .venv/bin/python -m pytest "$@"
