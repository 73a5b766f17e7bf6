"""Combining the re-seeded finals of repeated studies: averaging by seed, spread, P(best)."""

from __future__ import annotations

import pandas as pd
import pytest

from bench.search.finals import average_over_studies, p_best, study_spread


def _runs(acc):
    """``acc[arm][study]`` = the accuracies of seeds 0, 1, 2."""
    rows = []
    for arm, studies in acc.items():
        for study, seeds in enumerate(studies):
            for seed, a in enumerate(seeds):
                rows.append({"study": study, "arm": arm, "seed": seed, "status": "FINISHED",
                             "test_accuracy": a, "test_loss": 1 - a, "epochs_run": 5,
                             "best_epoch": 5, "run_seconds": 1.0, "diverged": 0.0,
                             "final_val_loss": 1 - a, "final_val_accuracy": a,
                             "run_id": f"{arm}{study}{seed}", "streams": "s", "blas_kernel": "k"})
    return pd.DataFrame(rows)


RUNS = _runs({"a": [[0.90, 0.91, 0.92], [0.80, 0.81, 0.82]],
              "b": [[0.50, 0.51, 0.52], [0.60, 0.61, 0.62]]})


def test_each_seed_is_averaged_over_the_studies():
    avg = average_over_studies(RUNS)
    row = avg[(avg["arm"] == "a") & (avg["seed"] == 1)].iloc[0]
    assert row["test_accuracy"] == pytest.approx(0.86) and row["studies"] == 2


def test_the_spread_is_the_lowest_and_highest_study_mean():
    spread = study_spread(RUNS, "a")
    assert (spread["low"], spread["high"], spread["median"]) == pytest.approx((0.81, 0.91, 0.86))


def test_an_arm_better_in_every_study_and_seed_is_best_with_probability_one():
    assert p_best(RUNS, ["a", "b"], seed=0, n=200) == {"a": 1.0, "b": 0.0}


def test_p_best_is_split_when_the_studies_disagree_and_is_reproducible_from_the_seed():
    # a wins when both studies drawn are its first, loses when both are its second, ties
    # (split evenly) otherwise: P(a best) = 1/4 + 1/2 * 1/2 = 1/2. Binary-exact values.
    runs = _runs({"a": [[0.75, 0.75, 0.75], [0.25, 0.25, 0.25]],
                  "b": [[0.5, 0.5, 0.5], [0.5, 0.5, 0.5]]})
    first = p_best(runs, ["a", "b"], seed=3, n=400)
    assert first["a"] == pytest.approx(0.5, abs=0.1)
    assert first["a"] + first["b"] == pytest.approx(1.0)
    assert p_best(runs, ["a", "b"], seed=3, n=400) == first
