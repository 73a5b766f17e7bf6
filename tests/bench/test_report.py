"""Reading an invocation's runs and structure back from MLflow."""

from __future__ import annotations

import pytest
from harness_util import QUICK_ARMS, QUICK_DATASET, QUICK_SEEDS

from bench.report import find_parent_run, load_runs, load_structure
from bench.tracking import Tracker

# -- from MLflow -----------------------------------------------------------------------------------

def test_load_runs_has_one_row_per_child_with_its_final_metrics(quick_run):
    runs = load_runs(Tracker(quick_run.uri), quick_run.parent.info.run_id)
    assert sorted(zip(runs["arm"], runs["seed"])) == sorted(
        (a, s) for a in QUICK_ARMS for s in QUICK_SEEDS)
    for r in runs.itertuples():
        child = quick_run.child(r.arm, r.seed)
        assert r.run_id == child.info.run_id and r.status == "FINISHED"
        assert r.test_accuracy == child.data.metrics["test_accuracy"]
        assert r.epochs_run == child.data.metrics["epochs_run"]


def test_load_runs_rides_out_a_locked_store(quick_run, monkeypatch):
    """The read behind the tables goes through the tracker's retry: a store that is locked
    for a moment (here: the first search fails as SQLite's lock does) costs a retry, not
    the report."""
    from mlflow.exceptions import MlflowException
    from mlflow.protos.databricks_pb2 import TEMPORARILY_UNAVAILABLE
    from mlflow.tracking import MlflowClient
    real, calls = MlflowClient.search_runs, []

    def locked_once(*args, **kwargs):
        calls.append(args[2] if len(args) > 2 else kwargs.get("filter_string"))
        if len(calls) == 1:
            raise MlflowException("(sqlite3.OperationalError) database is locked",
                                  error_code=TEMPORARILY_UNAVAILABLE)
        return real(*args, **kwargs)

    monkeypatch.setattr(MlflowClient, "search_runs", locked_once)
    tracker = Tracker(quick_run.uri, retry_seconds=30)
    runs = load_runs(tracker, quick_run.parent.info.run_id)
    assert len(calls) == 2 and tracker.retries == 1
    assert len(runs) == len(QUICK_ARMS) * len(QUICK_SEEDS)


def test_stored_structure_is_the_selected_arms_with_rewired_comparisons(quick_run):
    structure = load_structure(Tracker(quick_run.uri), quick_run.parent.info.run_id)
    assert [a["name"] for a in structure["arms"]] == list(QUICK_ARMS)
    compare = {a["name"]: a["compare_to"] for a in structure["arms"]}
    # momentum's previous rung was selected; softmax-ce's and glorot's were not.
    assert compare == {"softmax-ce": None, "momentum": "softmax-ce", "glorot": None}
    assert structure["baseline"] == "softmax-ce"  # mse-sigmoid was not selected


def test_find_parent_run_returns_the_newest_finished_parent(quick_run):
    tracker = Tracker(quick_run.uri)
    assert find_parent_run(tracker, "ablation") == quick_run.parent.info.run_id
    assert find_parent_run(tracker, "ablation", QUICK_DATASET) == quick_run.parent.info.run_id


def test_find_parent_run_on_another_dataset_names_it_in_the_error(quick_run):
    with pytest.raises(ValueError, match="mnist-5k"):
        find_parent_run(Tracker(quick_run.uri), "ablation", "mnist-5k")


def test_find_parent_run_of_an_unknown_experiment_fails(quick_run):
    with pytest.raises(ValueError, match="no-such-experiment"):
        find_parent_run(Tracker(quick_run.uri), "no-such-experiment")
