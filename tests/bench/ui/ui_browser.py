"""Browser helpers for the tests in this folder: Debian's chromium driven by Playwright."""

from __future__ import annotations

import os
import shutil

import pytest

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def require(condition: bool, reason: str) -> None:
    """Skip with ``reason`` when ``condition`` is false, or fail under BENCH_REQUIRE_SERVICES=1."""
    if condition:
        return
    if os.environ.get("BENCH_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{reason} (BENCH_REQUIRE_SERVICES=1: required here; run .ci/browser.sh)",
                    pytrace=False)
    pytest.skip(f"{reason}; run .ci/browser.sh to install it")


def chromium_path() -> str | None:
    """``$BENCH_CHROMIUM``, else Debian's /usr/bin/chromium, else chromium on PATH."""
    for candidate in (os.environ.get("BENCH_CHROMIUM"), "/usr/bin/chromium",
                      shutil.which("chromium"), shutil.which("chromium-browser")):
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None
