"""The protocol and adaptive seeds through the real CLI, into a temporary MLflow store."""

from __future__ import annotations

import pandas as pd
from harness_util import run_bench, run_dir
from mlflow import MlflowClient


def _children(uri):
    client = MlflowClient(uri)
    exp = client.get_experiment_by_name("ablation")
    runs = client.search_runs([exp.experiment_id], "tags.`bench.kind` = 'run'", max_results=1000)
    return client, runs


def test_full_protocol_validates_every_epoch_and_records_the_best_epoch(tmp_path):
    uri = f"sqlite:///{tmp_path / 'm.db'}"
    proc = run_bench(["run", "ablation", "--dataset", "digits", "--arms", "momentum",
                      "--epochs", "6", "--seeds", "1", "--jobs", "1", "--tracking-uri", uri,
                      "--results-dir", tmp_path / "results", "--quiet"], tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    client, (run,) = _children(uri)
    checks = client.get_metric_history(run.info.run_id, "val_loss")
    assert sorted(m.step for m in checks) == [1, 2, 3, 4, 5, 6]
    best = min(checks, key=lambda m: (m.value, m.step))
    assert run.data.metrics["best_epoch"] == best.step
    assert run.data.metrics["epochs_run"] == 6


def test_notebook_protocol_checks_every_ten_epochs(tmp_path):
    uri = f"sqlite:///{tmp_path / 'm.db'}"
    proc = run_bench(["run", "ablation", "--dataset", "digits", "--arms", "momentum",
                      "--epochs", "30", "--seeds", "1", "--jobs", "1", "--protocol", "notebook",
                      "--tracking-uri", uri, "--results-dir", tmp_path / "results", "--quiet"],
                     tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    client, (run,) = _children(uri)
    steps = sorted(m.step for m in client.get_metric_history(run.info.run_id, "val_loss"))
    assert steps == list(range(10, int(run.data.metrics["epochs_run"]) + 1, 10))
    assert run.data.params["eval_every"] == "10" and run.data.params["patience"] == "1"
    table = (run_dir(tmp_path / "results") / "table.md").read_text()
    assert "Protocol: notebook" in table


def test_precision_adds_seeds_until_the_target_or_the_cap(tmp_path):
    uri = f"sqlite:///{tmp_path / 'm.db'}"
    proc = run_bench(["run", "ablation", "--dataset", "digits", "--arms", "momentum,glorot",
                      "--epochs", "2", "--seeds", "2", "--precision", "0.5", "--max-seeds", "5",
                      "--jobs", "1", "--tracking-uri", uri, "--results-dir", tmp_path / "results",
                      "--quiet"], tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    _, runs = _children(uri)
    table = pd.read_csv(run_dir(tmp_path / "results") / "table.csv").set_index("arm")
    for arm in ("momentum", "glorot"):
        n = sum(r.data.tags["bench.arm"] == arm for r in runs)
        half = (table.loc[arm, "acc_high"] - table.loc[arm, "acc_low"]) / 2
        assert n > 2, arm                                  # the first round was too wide
        assert half <= 0.005 or n == 5, (arm, n, half)     # stopped at the target or the cap
        assert table.loc[arm, "runs"] == n
    notes = (run_dir(tmp_path / "results") / "table.md").read_text()
    assert "Adaptive seeds" in notes and "at most 5 seeds per arm" in notes
