"""From runs to the arm summary: constructed runs, checked against hand formulas."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from scipy import stats as sps

from bench.stats import holm
from bench.summary import PAIRED_STREAMS, summarize

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
                         "best_epoch": 5.0 + seed, "final_val_loss": 0.5,
                         "final_val_accuracy": 0.8, "streams": PAIRED_STREAMS,
                         "blas_kernel": "openblas 0.3.31 Haswell"})
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
    assert summary.loc["b", "d_prev_test"] == "paired t"


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




# -- pairing, correction, divergence ---------------------------------------------------------------

def test_runs_without_common_random_numbers_are_compared_with_welchs_test():
    runs = make_runs().assign(streams=None)  # runs recorded before streams were shared
    row = summarize(runs, STRUCTURE).set_index("arm").loc["b"]
    b, a = list(finished("b").values()), list(finished("a").values())
    assert row["d_prev_test"] == "Welch t"
    assert row["d_prev_p"] == pytest.approx(sps.ttest_ind(b, a, equal_var=False).pvalue, rel=1e-12)


def test_each_family_is_holm_corrected_on_its_own(summary):
    for prefix in ("prev", "base"):
        raw = summary[f"d_{prefix}_p"].tolist()
        assert summary[f"d_{prefix}_padj"].tolist() == pytest.approx(holm(raw), nan_ok=True)


def test_the_verdict_follows_the_adjusted_p_value(summary):
    for arm in "bc":
        padj, diff, verdict = summary.loc[arm, ["d_prev_padj", "d_prev_acc", "d_prev_verdict"]]
        want = ("better" if diff > 0 else "worse") if padj < 0.05 else "no detectable difference"
        assert verdict == want


def test_best_epoch_is_the_mean_over_finished_runs(summary):
    assert summary.loc["c", "best_epoch_mean"] == pytest.approx(sum(5 + s for s in (0, 2, 3)) / 3)


def test_a_diverged_run_without_checkpoint_counts_in_every_column():
    runs = make_runs()
    hit = (runs["arm"] == "c") & (runs["seed"] == 0)
    runs.loc[hit, ["diverged", "best_epoch", "test_accuracy", "test_loss"]] = [1.0, math.nan, 0.1, math.inf]
    row = summarize(runs, STRUCTURE).set_index("arm").loc["c"]
    assert (row["runs"], row["diverged"], row["no_checkpoint"]) == (3, 1, 1)
    assert row["acc_mean"] == pytest.approx((0.1 + 0.91 + 0.93) / 3)
    assert row["loss_mean"] == math.inf and math.isnan(row["loss_low"])


def test_a_run_without_a_test_score_is_counted_not_dropped_silently():
    runs = make_runs()
    runs.loc[(runs["arm"] == "a") & (runs["seed"] == 1), "test_accuracy"] = math.nan
    row = summarize(runs, STRUCTURE).set_index("arm")
    assert row.loc["a", "missing"] == 1
    assert row.loc["b", "d_prev_dropped"] == 1


def test_the_kernels_of_an_arms_runs_are_listed(summary):
    assert summary.loc["a", "blas_kernels"] == "openblas 0.3.31 Haswell"
