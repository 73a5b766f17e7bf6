"""``report.html`` as a person opens it: a file in headless Chromium, with no network."""

from __future__ import annotations

import os
from pathlib import Path


def _open(page, path: Path, errors: list, requests: list):
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: requests.append(r.url))
    page.goto(path.as_uri())
    page.wait_for_load_state("load")


def test_report_renders_its_tables_and_figures_without_errors_or_network(quick_run, browser_page,
                                                                         tmp_path):
    report = quick_run.table_dir / "report.html"
    errors, requests = [], []
    _open(browser_page, report, errors, requests)
    assert errors == []
    assert all(url.startswith(("file:", "data:")) for url in requests), requests
    headings = browser_page.locator("h2").all_inner_texts()
    assert "Arms" in headings and any(h.startswith("Each arm against") for h in headings)
    arms = browser_page.locator("table").first.locator("tbody tr")
    assert arms.count() == len({r.data.tags["bench.arm"] for r in quick_run.children})
    images = browser_page.locator("img")
    assert images.count() >= 3
    for i in range(images.count()):  # every figure decoded, none a broken image
        assert browser_page.evaluate("(img) => img.naturalWidth", images.nth(i).element_handle()) > 0
    links = browser_page.locator("td a").evaluate_all("(as) => as.map(a => a.href)")
    assert links and all("/#/experiments/" in href and "/runs/" in href for href in links)
    shots = Path(os.environ.get("BENCH_UI_SCREENSHOTS") or tmp_path)
    browser_page.screenshot(path=str(shots / "report-html.png"), full_page=True)
