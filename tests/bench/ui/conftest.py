"""Fixtures for the tests that look at bench as a person does: a headless Chromium page
(Playwright driving Debian's ``chromium``) and real terminals.

Missing browser pieces skip these tests with the reason, unless ``BENCH_REQUIRE_SERVICES=1``
(set by CI), where they fail instead: CI installs them with ``.ci/browser.sh``.
"""

from __future__ import annotations

import pytest
from ui_browser import CHROMIUM_ARGS, chromium_path, require


@pytest.fixture
def browser_page(tmp_path):
    """A page in a fresh headless Chromium profile, 1600x1000; closed afterwards."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sync_playwright = None
    require(sync_playwright is not None,
            "Playwright for Python is not installed (pip install -e '.[ui]')")
    executable = chromium_path()
    require(executable is not None, "no Chromium at /usr/bin/chromium (apt-get install chromium)")
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"), executable_path=executable, headless=True,
            args=CHROMIUM_ARGS, viewport={"width": 1600, "height": 1000})
        try:
            page = context.pages[0] if context.pages else context.new_page()
            page.set_default_timeout(60_000)
            yield page
        finally:
            context.close()
