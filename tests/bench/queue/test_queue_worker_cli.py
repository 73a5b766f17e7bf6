"""``bench worker --storage URL`` on a run queue: it waits for a coordinator that has not
queued anything yet, says there is nothing to do once every queue is empty, and refuses a
bad storage URL in one line with exit status 2 (PostgreSQL from ``.ci/services.sh``)."""

from __future__ import annotations

import time
from urllib.parse import urlsplit, urlunsplit

import pytest
from harness_util import run_bench
from test_queue_postgres import _run_args, start

TINY = _run_args(epochs=2, arms=("momentum",), seeds=2)


def _wait_for(log, text: str, proc, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while text not in log.read_text():
        assert proc.poll() is None, log.read_text()
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.2)


@pytest.mark.slow
def test_a_worker_started_before_the_coordinator_waits_then_takes_runs(queue_url, tmp_path):
    log = tmp_path / "worker.log"
    worker = start(["worker", "--storage", queue_url], tmp_path, log)
    _wait_for(log, "waiting for `bench run", worker)
    time.sleep(1.5)
    assert worker.poll() is None, log.read_text()  # still waiting, not gone
    coordinator = run_bench([*TINY, "--storage", queue_url, "--tracking-uri",
                             f"sqlite:///{tmp_path / 'mlflow.db'}", "--results-dir",
                             tmp_path / "results"], tmp_path)
    assert coordinator.returncode == 0, coordinator.stderr
    assert worker.wait(120) == 0, log.read_text()
    assert "no run is left on the queue" in log.read_text().splitlines()[-1]


@pytest.mark.slow
def test_a_worker_started_after_the_queue_is_empty_exits_saying_so(queue_url, tmp_path):
    coordinator = run_bench([*TINY, "--storage", queue_url, "--tracking-uri",
                             f"sqlite:///{tmp_path / 'mlflow.db'}", "--results-dir",
                             tmp_path / "results"], tmp_path)
    assert coordinator.returncode == 0, coordinator.stderr
    worker = run_bench(["worker", "--storage", queue_url], tmp_path, timeout=120)
    assert worker.returncode == 0, worker.stderr
    last = worker.stderr.strip().splitlines()[-1]
    assert last.startswith("bench worker: ran 0 run(s) (no run queue with work in postgresql")
    assert last.endswith("nothing to do: every run queue there is empty")
    assert urlsplit(queue_url).password not in worker.stderr


def test_a_wrong_password_is_one_line_and_exit_2(pg_url, tmp_path):
    parts = urlsplit(pg_url)
    wrong = urlunsplit(parts._replace(netloc=f"{parts.username}:not-the-password@"
                                             f"{parts.hostname}:{parts.port}"))
    proc = run_bench(["worker", "--storage", wrong], tmp_path, timeout=120)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("bench: error: cannot open Optuna storage")
    assert "not-the-password" not in proc.stderr


def test_a_coordinator_with_a_wrong_password_creates_no_mlflow_run(pg_url, tmp_path):
    parts = urlsplit(pg_url)
    wrong = urlunsplit(parts._replace(netloc=f"{parts.username}:not-the-password@"
                                             f"{parts.hostname}:{parts.port}"))
    proc = run_bench([*TINY, "--storage", wrong], tmp_path, timeout=120)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("bench: error: cannot open Optuna storage")
    assert list(tmp_path.iterdir()) == []  # no mlflow.db: no parent run was opened first


@pytest.mark.parametrize("command,storage,expected", [
    ("worker", "postgresql://bench@127.0.0.1:1/bench", "127.0.0.1:1"),
    ("worker", "no-such-storage", "unsupported Optuna storage 'no-such-storage'"),
    ("run", "journal:queue.journal", "a run queue needs an Optuna RDB storage"),
])
def test_a_bad_storage_url_is_one_line_and_exit_2_creating_nothing(command, storage,
                                                                    expected, tmp_path):
    args = [*TINY, "--storage", storage] if command == "run" else ["worker", "--storage", storage]
    proc = run_bench(args, tmp_path, timeout=120)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0], lines
    assert list(tmp_path.iterdir()) == []


def test_ui_on_a_tracking_server_points_at_the_server(mlflow_server, tmp_path):
    proc = run_bench(["ui", "--tracking-uri", mlflow_server], tmp_path, timeout=120)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and f"{mlflow_server} is an MLflow tracking server" in lines[0]
    assert "open it in a browser" in lines[0]
