#!/usr/bin/env bash
# Installs what the browser tests (tests/bench/ui/) need, idempotently:
#   - Debian's chromium package (/usr/bin/chromium), via apt-get;
#   - Playwright for Python, the driver only (the project's `ui` extra).
# Never runs `playwright install`: no browser build is downloaded; the tests launch Debian's.
# Safe to run again: each step is skipped when its piece is already there.
set -euo pipefail
cd "$(dirname "$0")/.."
export PIP_DISABLE_PIP_VERSION_CHECK=1

if [ -x /usr/bin/chromium ] && /usr/bin/chromium --version >/dev/null 2>&1; then
    echo "browser.sh: chromium present: $(/usr/bin/chromium --version 2>/dev/null)"
else
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
    echo "browser.sh: installing chromium (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq chromium >/dev/null
    /usr/bin/chromium --version
fi

if python -c "import playwright.sync_api" >/dev/null 2>&1; then
    echo "browser.sh: playwright present: $(python -m pip show playwright 2>/dev/null | sed -n 's/^Version: //p')"
else
    echo "browser.sh: installing playwright (pip, the driver only)"
    python -m pip install -q -e ".[ui]"
fi
