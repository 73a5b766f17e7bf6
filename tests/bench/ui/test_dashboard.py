"""``python -m bench dashboard``, for real: the installed optuna-dashboard serves a journal
storage holding a study, and the study's page is loaded in headless Chromium. Skips without
optuna-dashboard, Chromium or Playwright unless BENCH_REQUIRE_SERVICES=1 (CI), where it
fails instead."""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from harness_util import bench_env
from test_mlflow_ui import free_port, port_open
from ui_browser import require

STUDY = "ablation.digits.momentum"


def _journal_with_a_study(path: Path) -> int:
    """A journal storage with one small finished study; returns the study's id."""
    import optuna
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    study = optuna.create_study(study_name=STUDY,
                                storage=JournalStorage(JournalFileBackend(str(path))))
    study.optimize(lambda t: (t.suggest_float("lr", 1e-3, 1.0, log=True) - 0.1) ** 2, n_trials=3)
    return study._study_id


@contextlib.contextmanager
def bench_dashboard(storage: Path, port: int, log: Path, timeout: float = 120):
    """``python -m bench dashboard`` until it answers HTTP; SIGTERM afterwards, and the port
    must then be free."""
    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "bench", "dashboard", "--storage",
                                 str(storage), "--port", str(port)], cwd=storage.parent,
                                env=bench_env(), stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    try:
        deadline = time.monotonic() + timeout
        while True:
            assert proc.poll() is None, f"bench dashboard exited {proc.returncode}:\n{log.read_text()}"
            assert time.monotonic() < deadline, f"no answer in {timeout}s:\n{log.read_text()}"
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2):
                    break
            except OSError:
                time.sleep(0.5)
        yield proc
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    assert not port_open(port), "the dashboard left its port open"


def test_dashboard_serves_the_study_page_in_chromium(browser_page, tmp_path):
    try:
        import optuna_dashboard  # noqa: F401
    except ImportError:
        optuna_dashboard = None
    require(optuna_dashboard is not None,
            "optuna-dashboard is not installed (pip install -e '.[dashboard]')")
    storage = tmp_path / "optuna.journal"
    study_id = _journal_with_a_study(storage)
    port = free_port()
    log = tmp_path / "dashboard.log"
    with bench_dashboard(storage, port, log):
        assert f"at http://127.0.0.1:{port}" in log.read_text()
        page = browser_page
        page.goto(f"http://127.0.0.1:{port}/dashboard/studies/{study_id}")
        page.get_by_text(STUDY).first.wait_for(state="visible")
        page.get_by_text("lr", exact=True).first.wait_for(state="visible")
        page.screenshot(path=str(tmp_path / "dashboard.png"))
