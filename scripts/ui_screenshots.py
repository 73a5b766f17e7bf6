"""Screenshots of what a user sees for one ablation: MLflow's runs table with the arm runs and
their aggregates, the parent run, an arm run, and report.html. Written to ``results/ui/``.

    python scripts/ui_screenshots.py --tracking-uri sqlite:///mlflow.db \
        --report results/ablation/mnist-5k/report.html

Starts ``python -m bench ui`` on a free loopback port and drives Debian's Chromium with
Playwright (``.ci/browser.sh`` installs both); stops the server afterwards.
"""

from __future__ import annotations

import argparse
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
COLUMNS = ("test_accuracy_mean", "test_accuracy_ci_low", "test_accuracy_ci_high",
           "delta_vs_previous", "p_holm_vs_previous")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_ui(uri: str, port: int, log: Path) -> tuple[subprocess.Popen, str]:
    out = open(log, "w")
    proc = subprocess.Popen([sys.executable, "-m", "bench", "ui", "--tracking-uri", uri,
                             "--port", str(port)], stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 180
    while "newest invocation" not in log.read_text():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"bench ui did not come up:\n{log.read_text()}")
        time.sleep(0.5)
    return proc, log.read_text()


def _close_assistant(page) -> None:
    try:
        if page.get_by_text("MLflow Assistant").first.is_visible():
            page.locator("button[aria-label='Close']").first.click(timeout=5_000)
    except Exception:  # noqa: BLE001 - the panel is not always there
        pass


def _runs_table(page, url: str, parent: str, out: Path) -> None:
    page.goto(url)
    page.get_by_text(parent, exact=True).first.wait_for()
    _close_assistant(page)
    page.locator("[role=row]", has_text=parent).first.locator(
        "button[data-component-id*='runnamecellrenderer']").click()
    page.wait_for_timeout(1500)
    for column in COLUMNS:
        page.get_by_role("button", name="Columns", exact=True).click()
        page.get_by_placeholder("Search columns").fill(column)
        page.get_by_text(column, exact=True).last.click()
        page.keyboard.press("Escape")
    page.wait_for_timeout(1500)
    page.screenshot(path=str(out / "mlflow-runs.png"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tracking-uri", required=True)
    parser.add_argument("--report", required=True, help="the report.html to show")
    parser.add_argument("--arm", default="glorot", help="the arm run to show")
    parser.add_argument("--out", default="results/ui")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    proc, said = _start_ui(args.tracking_uri, _free_port(), out / ".ui.log")
    try:
        runs_url = re.search(r"ablation: (http://\S+)", said).group(1)
        parent, parent_url = re.search(r"newest invocation \((.+)\): (http://\S+)", said).groups()
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 2000, "height": 1000})
            page.set_default_timeout(60_000)
            _runs_table(page, runs_url, parent, out)
            page.goto(parent_url)
            page.get_by_text("Each arm against", exact=False).first.wait_for()
            _close_assistant(page)
            page.screenshot(path=str(out / "mlflow-parent-run.png"))
            # Following the link would drop the model-training view (MLflow keeps it in the
            # address only), so open the arm run's address with it.
            href = page.get_by_role("link", name=args.arm, exact=True).first.get_attribute("href")
            page.goto(f"{runs_url.split('#')[0]}{href}?workflowType=machine_learning")
            page.get_by_text("test_accuracy_mean", exact=True).first.wait_for()
            page.wait_for_timeout(1000)
            page.screenshot(path=str(out / "mlflow-arm-run.png"))
            page.goto(Path(args.report).resolve().as_uri())
            page.wait_for_load_state("load")
            page.screenshot(path=str(out / "report-html.png"), full_page=True)
            browser.close()
    finally:
        proc.terminate()
        proc.wait(30)
        (out / ".ui.log").unlink(missing_ok=True)
    print(f"screenshots written to {out}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
