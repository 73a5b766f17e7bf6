"""The MLflow UI, looked at as a person would: ``python -m bench ui`` on a store holding a quick
ablation, opened in headless Chromium.

It checks that the experiment, the parent run, its arm runs with their aggregate metrics, the
seed runs (``<arm>/seed-<n>``), the parent run's description (the table) and the plots (each run's ``learning_curve.png``, drawn with
``--run-plots``, and the parent's ``learning_curves.png``) are on screen, and saves screenshots to
the test's temporary directory, or to ``$BENCH_UI_SCREENSHOTS`` (e.g. ``results/ui``, to refresh
the committed ones: the suite itself writes nothing inside the checkout). Skips without Chromium / Playwright unless BENCH_REQUIRE_SERVICES=1.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from harness_util import bench_env, run_bench

ARMS = ("softmax-ce", "momentum")
SEEDS = (0, 1)
DATASET = "mnist-5k"  # the ablation's default data set


def screenshot_dir(fallback: Path) -> Path:
    path = Path(os.environ.get("BENCH_UI_SCREENSHOTS") or fallback)
    path.mkdir(parents=True, exist_ok=True)
    return path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0


@contextlib.contextmanager
def bench_ui(uri: str, port: int, log: Path, cwd: Path, timeout: float = 180):
    """``python -m bench ui`` until it says it is ready; yields its output so far. Stopped
    with SIGTERM afterwards, and the port must then be free (nothing left behind)."""
    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "bench", "ui", "--tracking-uri", uri,
                                 "--port", str(port)], cwd=cwd, env=bench_env(), stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + timeout
        while "MLflow UI ready at" not in log.read_text():
            assert proc.poll() is None, f"bench ui exited {proc.returncode}:\n{log.read_text()}"
            assert time.monotonic() < deadline, f"bench ui not ready in {timeout}s:\n{log.read_text()}"
            time.sleep(0.5)
        time.sleep(0.5)  # the links follow the ready line
        yield log.read_text()
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)
    deadline = time.monotonic() + 15
    while port_open(port) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not port_open(port), f"the MLflow server still listens on {port} after bench ui stopped"


def close_assistant(page) -> None:
    """MLflow 3's assistant panel opens on the right of a fresh profile; close it if it is there."""
    panel_close = page.locator("button[aria-label='Close']").first
    with contextlib.suppress(Exception):
        if page.get_by_text("MLflow Assistant").first.is_visible():
            panel_close.click(timeout=5_000)


def wait_for_image(page, min_width: int = 300) -> None:
    page.wait_for_function(
        f"() => [...document.images].some(i => i.complete && i.naturalWidth >= {min_width})",
        timeout=60_000)


def test_mlflow_ui_shows_runs_metrics_description_and_plots(browser_page, tmp_path):
    page = browser_page
    work = tmp_path / "work"
    work.mkdir()
    uri = f"sqlite:///{work}/mlflow.db"
    made = run_bench(["run", "ablation", "--quick", "--arms", ",".join(ARMS), "--seeds",
                      str(len(SEEDS)), "--run-plots", "--tracking-uri", uri,
                      "--results-dir", work / "results"], work)
    assert made.returncode == 0, made.stderr

    from mlflow.tracking import MlflowClient
    client = MlflowClient(tracking_uri=uri)
    exp = client.get_experiment_by_name("ablation")
    (parent,) = client.search_runs([exp.experiment_id], "tags.`bench.kind` = 'parent'")
    arm_runs = {r.info.run_name: r for r in client.search_runs(
        [exp.experiment_id], f"tags.mlflow.parentRunId = '{parent.info.run_id}'")}
    assert sorted(arm_runs) == sorted(ARMS)
    children = {r.info.run_name: r for r in client.search_runs(
        [exp.experiment_id], f"tags.`bench.invocation` = '{parent.info.run_id}' and "
                             "tags.`bench.kind` = 'run'")}
    names = [f"{arm}/seed-{seed}" for arm in ARMS for seed in SEEDS]
    assert sorted(children) == sorted(names)
    description = parent.data.tags["mlflow.note.content"]
    assert description.startswith(f"# ablation on {DATASET}")
    shots = screenshot_dir(tmp_path / "screenshots")

    port = free_port()
    with bench_ui(uri, port, tmp_path / "ui.log", work) as said:
        # The link bench ui prints for the experiment, as a person would copy it.
        link = re.search(r"ablation: (http://\S+)", said)
        assert link, f"bench ui printed no link to the ablation runs:\n{said}"
        url = link.group(1)
        assert url == (f"http://localhost:{port}/#/experiments/{exp.experiment_id}"
                       "/runs?workflowType=machine_learning")
        newest = re.search(r"newest invocation \((.+)\): (http://\S+)", said)
        assert newest and newest.group(1) == parent.info.run_name, said
        assert parent.info.run_id in newest.group(2)
        assert "GET /" not in said  # the server's request log stays out of the terminal

        # -- the runs table: the parent, its arm runs with their aggregates -------------------
        page.goto(url)
        parent_name = f"ablation {DATASET} quick"
        assert parent.info.run_name == parent_name
        page.get_by_text(parent_name, exact=True).first.wait_for()
        close_assistant(page)
        page.locator("[role=row]", has_text=parent_name).first.locator(
            "button[data-component-id*='runnamecellrenderer']").click()
        for arm in ARMS:
            page.get_by_text(arm, exact=True).first.wait_for()
        # Show the arms' mean test accuracy (MLflow 3 hides metric columns by default).
        page.get_by_role("button", name="Columns", exact=True).click()
        page.get_by_placeholder("Search columns").fill("test_accuracy_mean")
        page.get_by_text("test_accuracy_mean", exact=True).last.click()
        page.keyboard.press("Escape")
        page.locator(".ag-header-cell", has_text="test_accuracy_mean").first.wait_for()
        page.wait_for_timeout(800)
        for arm in ARMS:  # each arm's mean over seeds, in its row (as the UI rounds it)
            mean = arm_runs[arm].data.metrics["test_accuracy_mean"]
            # AG Grid splits a row into a pinned and a scrolling part: both share row-index.
            index = page.locator("[role=row]", has_text=arm).first.get_attribute("row-index")
            text = " ".join(page.locator(f"[role=row][row-index='{index}']").all_inner_texts())
            shown = [float(x) for x in re.findall(r"\b0\.\d+", text)]
            assert any(abs(x - mean) < 0.0015 for x in shown), (arm, mean, text)
        page.screenshot(path=str(shots / "mlflow-runs.png"))

        # -- the parent run: the table as its description, and the figures ------------------
        page.goto(newest.group(2))
        page.get_by_text(f"ablation on {DATASET}", exact=False).first.wait_for()
        for arm in ARMS:  # the "Child runs" list: the arm runs
            assert page.get_by_role("link", name=arm, exact=True).first.get_attribute(
                "href") == f"#/experiments/{exp.experiment_id}/runs/{arm_runs[arm].info.run_id}"
        close_assistant(page)
        page.screenshot(path=str(shots / "mlflow-parent-run.png"))
        page.get_by_role("tab", name="Artifacts").or_(
            page.get_by_text("Artifacts", exact=True)).first.click()
        for figure in ("learning_curves.png", "differences.png", "report.html", "table.md"):
            page.get_by_text(figure, exact=True).first.wait_for()
        page.get_by_text("differences.png", exact=True).first.click()
        wait_for_image(page, 800)
        page.wait_for_timeout(500)
        page.screenshot(path=str(shots / "mlflow-parent-figures.png"))

        # -- one child run: its metrics, then its learning curve --------------------------------
        child = children["momentum/seed-0"]
        page.goto(f"http://localhost:{port}/#/experiments/{exp.experiment_id}/runs/"
                  f"{child.info.run_id}?workflowType=machine_learning")
        page.get_by_text("momentum/seed-0", exact=True).first.wait_for()
        for metric in ("test_accuracy", "test_loss", "val_accuracy", "epochs_run"):
            page.get_by_text(metric, exact=True).first.wait_for()
        accuracy = child.data.metrics["test_accuracy"]
        page.get_by_text(re.compile(re.escape(f"{accuracy}"[:5]))).first.wait_for()
        close_assistant(page)
        page.get_by_role("tab", name="Artifacts").or_(
            page.get_by_text("Artifacts", exact=True)).first.click()
        page.get_by_text("weights.npz", exact=True).first.wait_for()
        page.get_by_text("learning_curve.png", exact=True).first.click()
        wait_for_image(page, 500)
        page.wait_for_timeout(500)
        page.screenshot(path=str(shots / "mlflow-run-artifact.png"))

    for name in ("mlflow-runs", "mlflow-parent-run", "mlflow-parent-figures", "mlflow-run-artifact"):
        assert (shots / f"{name}.png").stat().st_size > 10_000, name
