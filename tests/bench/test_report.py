"""From runs to the arm summary (constructed runs, checked by hand formulas), and reading the
runs back from MLflow."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from harness_util import QUICK_ARMS, QUICK_DATASET, QUICK_SEEDS
from scipy import stats as sps

from bench.report import find_parent_run, load_runs, load_structure, summarize
from bench.tracking import Tracker

STRUCTURE = {
    "experiment": "toy", "baseline": "a",
    "arms": [
        {"name": "a", "description": "the base", "compare_to": None, "reference": {}},
        {"name": "b", "description": "a + one change", "compare_to": "a",
         "reference": {"test_accuracy": 0.9, "test_loss": None}},
        {"name": "c", "description": "b + another", "compare_to": "b",
         "reference": {"test_accuracy": 0.95, "test_loss": 0.2}},
    ],
}

ACC = {  # arm -> seed -> (status, test accuracy)
    "a": {0: ("FINISHED", 0.80), 1: ("FINISHED", 0.82), 2: ("FINISHED", 0.79), 3: ("FINISHED", 0.85)},
    "b": {0: ("FINISHED", 0.86), 1: ("FINISHED", 0.85), 2: ("FINISHED", 0.88), 3: ("FAILED", 0.10)},
    "c": {0: ("FINISHED", 0.90), 1: ("KILLED", math.nan), 2: ("FINISHED", 0.91), 3: ("FINISHED", 0.93)},
}


def make_runs() -> pd.DataFrame:
    rows = []
    for arm, seeds in ACC.items():
        for seed, (status, acc) in seeds.items():
            rows.append({"run_id": f"{arm}{seed}", "arm": arm, "seed": seed, "status": status,
                         "test_accuracy": acc, "test_loss": 1 - acc + 0.1 * seed,
                         "epochs_run": 10 + seed, "run_seconds": 2.0 + seed,
                         "diverged": 1.0 if (arm, seed) == ("a", 3) else 0.0,
                         "final_val_loss": 0.5, "final_val_accuracy": 0.8})
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def summary() -> pd.DataFrame:
    return summarize(make_runs(), STRUCTURE).set_index("arm")


def finished(arm) -> dict[int, float]:
    return {s: acc for s, (status, acc) in ACC[arm].items() if status == "FINISHED"}


def hand_interval(xs):
    n = len(xs)
    mean = sum(xs) / n
    half = sps.t.ppf(0.975, n - 1) * math.sqrt(sum((x - mean) ** 2 for x in xs) / (n - 1)) / math.sqrt(n)
    return mean, mean - half, mean + half


# -- summarize -------------------------------------------------------------------------------------

def test_rows_follow_the_structures_arm_order(summary):
    assert list(summary.index) == ["a", "b", "c"]
    assert summary.loc["b", "change"] == "a + one change"


def test_accuracy_interval_is_over_finished_runs_only(summary):
    for arm in "abc":
        want = hand_interval(list(finished(arm).values()))
        got = tuple(summary.loc[arm, ["acc_mean", "acc_low", "acc_high"]])
        assert got == pytest.approx(want, rel=1e-12), arm


def test_unfinished_runs_are_counted_as_failed_not_averaged(summary):
    assert summary.loc["a", ["runs", "failed"]].tolist() == [4, 0]
    assert summary.loc["b", ["runs", "failed"]].tolist() == [3, 1]
    assert summary.loc["c", ["runs", "failed"]].tolist() == [3, 1]


def test_diverged_runs_are_counted(summary):
    assert summary["diverged"].tolist() == [1, 0, 0]


def test_delta_vs_previous_is_paired_over_seeds_both_arms_finished(summary):
    b, a = finished("b"), finished("a")
    shared = sorted(set(a) & set(b))  # seed 3 failed in b
    diffs = [b[s] - a[s] for s in shared]
    p = sps.ttest_rel([b[s] for s in shared], [a[s] for s in shared]).pvalue
    got = summary.loc["b", ["d_prev_acc", "d_prev_low", "d_prev_high", "d_prev_p"]].tolist()
    assert got == pytest.approx([*hand_interval(diffs), p], rel=1e-12)


def test_delta_vs_baseline_compares_with_the_baseline_arm(summary):
    c, a = finished("c"), finished("a")
    shared = sorted(set(a) & set(c))  # seed 1 was killed in c
    diffs = [c[s] - a[s] for s in shared]
    p = sps.ttest_rel([c[s] for s in shared], [a[s] for s in shared]).pvalue
    got = summary.loc["c", ["d_base_acc", "d_base_low", "d_base_high", "d_base_p"]].tolist()
    assert got == pytest.approx([*hand_interval(diffs), p], rel=1e-12)


def test_the_baseline_and_an_arm_without_compare_to_have_no_deltas(summary):
    assert summary.loc["a", ["d_prev_acc", "d_prev_p", "d_base_acc", "d_base_p"]].isna().all()


def test_reference_figures_are_carried_with_missing_ones_as_nan(summary):
    assert math.isnan(summary.loc["a", "ref_accuracy"])
    assert summary.loc["b", "ref_accuracy"] == 0.9 and math.isnan(summary.loc["b", "ref_loss"])
    assert summary.loc["c", ["ref_accuracy", "ref_loss"]].tolist() == [0.95, 0.2]


def test_epochs_and_seconds_are_means_over_finished_runs(summary):
    seeds = sorted(finished("c"))  # 0, 2, 3
    assert summary.loc["c", "epochs_mean"] == pytest.approx(sum(10 + s for s in seeds) / 3)
    assert summary.loc["c", "seconds_mean"] == pytest.approx(sum(2.0 + s for s in seeds) / 3)


def test_an_arm_with_no_runs_gets_an_empty_row():
    structure = {**STRUCTURE, "arms": [*STRUCTURE["arms"], {"name": "d", "description": "never ran",
                                                           "compare_to": "c"}]}
    row = summarize(make_runs(), structure).set_index("arm").loc["d"]
    assert row["runs"] == 0 and math.isnan(row["acc_mean"]) and math.isnan(row["d_prev_acc"])


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
