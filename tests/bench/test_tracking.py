"""Tracker, against a real MLflow SQLite store: experiments, runs, batched metrics, and what
``record_result`` writes."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from harness_util import unique_name

from bench.runner import HISTORY_COLUMNS, RunResult, RunSpec, write_history
from bench.tracking import DEFAULT_TRACKING_URI, Tracker, resolve_tracking_uri
from experiments import RunConfig


# -- where runs go ---------------------------------------------------------------------------------

def test_explicit_tracking_uri_wins_over_the_environment(monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "sqlite:///from-env.db")
    assert resolve_tracking_uri("sqlite:///given.db") == "sqlite:///given.db"


def test_environment_tracking_uri_is_used_when_none_is_given(monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "sqlite:///from-env.db")
    assert resolve_tracking_uri(None) == "sqlite:///from-env.db"


def test_default_is_a_sqlite_file_in_the_working_directory(monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    assert resolve_tracking_uri(None) == DEFAULT_TRACKING_URI == "sqlite:///mlflow.db"


# -- experiments and runs --------------------------------------------------------------------------

def test_experiment_is_created_once_with_artifacts_beside_the_database(store):
    tracker = Tracker(store.uri)
    name = unique_name("tracking-exp")
    first, again = tracker.experiment_id(name), tracker.experiment_id(name)
    assert first == again
    location = store.client.get_experiment(first).artifact_location
    assert location == f"file://{store.root}/mlartifacts/{name}"


def test_deleted_experiment_is_restored_and_reused(store):
    tracker = Tracker(store.uri)
    name = unique_name("tracking-deleted")
    exp_id = tracker.experiment_id(name)
    store.client.delete_experiment(exp_id)
    assert tracker.experiment_id(name) == exp_id
    assert store.client.get_experiment(exp_id).lifecycle_stage == "active"


def test_child_run_points_at_its_parent_and_ends_with_the_given_status(store):
    tracker = Tracker(store.uri)
    exp_id = tracker.experiment_id(unique_name("tracking-runs"))
    parent = tracker.start_run(exp_id, "p", tags={"k": "v"}, description="about this run")
    child = tracker.start_run(exp_id, "c/seed-0", tags={}, parent_id=parent)
    tracker.end(child, "KILLED")
    run = store.client.get_run(child)
    assert run.data.tags["mlflow.parentRunId"] == parent
    assert run.info.run_name == "c/seed-0" and run.info.status == "KILLED"
    assert store.client.get_run(parent).data.tags["mlflow.note.content"] == "about this run"
    assert store.client.get_run(parent).data.tags["k"] == "v"


def test_more_metrics_than_one_batch_are_all_stored(store):
    tracker = Tracker(store.uri)
    run = tracker.start_run(tracker.experiment_id(unique_name("tracking-batch")), "r", tags={})
    values = [(f"m{i % 3}", i * 0.5, i // 3) for i in range(2500)]  # 2.5 batches of 1000
    assert tracker.log_metrics(run, values) == 2500
    for key in ("m0", "m1", "m2"):
        got = sorted((m.step, m.value) for m in store.client.get_metric_history(run, key))
        assert got == sorted((s, v) for k, v, s in values if k == key)


def test_params_are_stored_as_strings_beyond_one_batch(store):
    tracker = Tracker(store.uri)
    run = tracker.start_run(tracker.experiment_id(unique_name("tracking-params")), "r", tags={})
    params = {f"p{i}": i for i in range(150)}  # MLflow takes 100 params per batch
    tracker.log_params(run, params)
    assert store.client.get_run(run).data.params == {k: str(v) for k, v in params.items()}


# -- record_result ---------------------------------------------------------------------------------

def _result(tmp_path: Path, with_files: bool = True) -> RunResult:
    nan = math.nan
    history = [
        {"epoch": 1, "train_loss": 1.5, "lr": 0.2, "seconds": 0.1, "val_loss": nan, "val_accuracy": nan},
        {"epoch": 2, "train_loss": 1.0, "lr": 0.1, "seconds": 0.1, "val_loss": 0.9, "val_accuracy": 0.7},
        {"epoch": 3, "train_loss": 0.8, "lr": 0.05, "seconds": 0.2, "val_loss": nan, "val_accuracy": nan},
        {"epoch": 4, "train_loss": 0.7, "lr": 0.05, "seconds": 0.2, "val_loss": 0.8, "val_accuracy": 0.75},
    ]
    weights = curve = table = None
    if with_files:
        weights, curve = tmp_path / "weights.npz", tmp_path / "learning_curve.png"
        np.savez(weights, w=np.arange(3.0))
        curve.write_bytes(b"\x89PNG\r\n\x1a\n")
        table = Path(write_history(history, str(tmp_path / "history.csv")))
    spec = RunSpec("exp", "arm", 0, RunConfig(dataset="digits"))
    return RunResult(spec, history, diverged=False, stop_reason="completed", best_epoch=4,
                     test_loss=0.6, test_accuracy=0.8, val_loss=0.8, val_accuracy=0.75,
                     seconds=1.25, weights_path=str(weights) if weights else None,
                     history_path=str(table) if table else None,
                     curve_path=str(curve) if curve else None,
                     dataset_fingerprint={"name": "digits", "n_test": 359})


@pytest.fixture
def recorded(store, tmp_path):
    tracker = Tracker(store.uri)
    run_id = tracker.start_run(tracker.experiment_id(unique_name("tracking-record")), "r", tags={})
    result = _result(tmp_path)
    tracker.record_result(run_id, result)
    return store.client, run_id, result


def _history(client, run_id, key):
    return sorted((m.step, m.value) for m in client.get_metric_history(run_id, key))


def test_epoch_metrics_are_logged_by_epoch(recorded):
    client, run_id, result = recorded
    assert _history(client, run_id, "train_loss") == [
        (r["epoch"], r["train_loss"]) for r in result.history]


def test_learning_rate_and_epoch_time_go_to_the_history_artifact_not_metrics(recorded, tmp_path):
    import pandas as pd
    client, run_id, result = recorded
    assert _history(client, run_id, "lr") == [] and _history(client, run_id, "seconds") == []
    got = pd.read_csv(client.download_artifacts(run_id, "history.csv", str(tmp_path / "dl")))
    assert list(got.columns) == list(HISTORY_COLUMNS)
    want = pd.DataFrame(result.history)[list(HISTORY_COLUMNS)]
    pd.testing.assert_frame_equal(got, want, check_dtype=False)


def test_validation_points_exist_only_for_evaluated_epochs(recorded):
    client, run_id, _ = recorded
    assert _history(client, run_id, "val_loss") == [(2, 0.9), (4, 0.8)]
    assert _history(client, run_id, "val_accuracy") == [(2, 0.7), (4, 0.75)]


def test_final_metrics_are_logged_at_step_0(recorded):
    client, run_id, _ = recorded
    want = {"test_loss": 0.6, "test_accuracy": 0.8, "final_val_loss": 0.8,
            "final_val_accuracy": 0.75, "epochs_run": 4.0, "diverged": 0.0, "run_seconds": 1.25,
            "best_epoch": 4.0}
    for key, value in want.items():
        assert _history(client, run_id, key) == [(0, value)], key


def test_result_tags_hold_flags_and_the_fingerprint_as_json(recorded):
    client, run_id, _ = recorded
    tags = client.get_run(run_id).data.tags
    assert tags["bench.diverged"] == "false"
    assert tags["bench.stop_reason"] == "completed"
    assert json.loads(tags["bench.dataset_fingerprint"]) == {"name": "digits", "n_test": 359}


def test_weights_history_and_curve_are_uploaded_as_artifacts(recorded, tmp_path):
    client, run_id, result = recorded
    assert {a.path for a in client.list_artifacts(run_id)} == {
        "weights.npz", "history.csv", "learning_curve.png"}
    got = client.download_artifacts(run_id, "weights.npz", str(tmp_path / "dl"))
    assert Path(got).read_bytes() == Path(result.weights_path).read_bytes()


def test_a_result_without_files_uploads_no_artifacts(store, tmp_path):
    tracker = Tracker(store.uri)
    run_id = tracker.start_run(tracker.experiment_id(unique_name("tracking-nofiles")), "r", tags={})
    tracker.record_result(run_id, _result(tmp_path, with_files=False))
    assert store.client.list_artifacts(run_id) == []
