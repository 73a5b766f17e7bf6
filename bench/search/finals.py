"""The re-seeded finals of a repeated-study search, combined into one tuned table.

Each study's best configuration of each arm is re-trained over the same seeds (one parent
run per study, variant ``tuned-study-<k>``) and scored once on the test set. The tuned table
then reports, per arm:

- the **median over studies** of the study's mean test accuracy, and the **tuning spread**
  (lowest and highest study), next to the seed interval: how much the result depends on
  which study's luck picked the configuration;
- the comparisons of the existing machinery (``bench.summary``: paired by seed, Holm,
  verdicts), on each seed's accuracy averaged over the studies. The pairing unit is the seed;
  the studies' configurations are averaged, not treated as a random effect, so the verdicts
  answer "at these S tuned configurations" and the spread column says how far they differ;
- the probability that the arm is best (``p_best``): a bootstrap over studies and seeds.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from nn_core.rng import seed_sequence

from ..report import load_runs, load_structure
from ..summary import summarize, to_target_cell

__all__ = ["study_runs", "average_over_studies", "study_spread", "p_best", "BOOTSTRAP"]

BOOTSTRAP = 2000  # resamples for p_best: its Monte Carlo error is below 0.012 at p = 0.5


def study_runs(tracker, parents: list[str]) -> pd.DataFrame:
    """Every study's (arm, seed) runs, with a ``study`` column (0-based)."""
    frames = []
    for index, parent in enumerate(parents):
        runs = load_runs(tracker, parent)
        runs.insert(0, "study", index)
        frames.append(runs)
    return pd.concat(frames, ignore_index=True)


def average_over_studies(runs: pd.DataFrame) -> pd.DataFrame:
    """One row per (arm, seed): the mean over studies of the finished runs' metrics, for
    ``bench.summary.summarize``. A seed counts only where every study finished it, so the
    pairing of arms by seed still holds."""
    done = runs[runs["status"] == "FINISHED"]
    studies = runs["study"].nunique()
    numeric = ["test_accuracy", "test_loss", "epochs_run", "best_epoch", "run_seconds",
               "diverged", "final_val_loss", "final_val_accuracy"]
    grouped = done.groupby(["arm", "seed"])
    out = grouped[numeric].mean()
    out["studies"] = grouped.size()
    first = grouped[["run_id", "streams", "blas_kernel"]].first()
    out = out.join(first).reset_index()
    out = out[out["studies"] == studies].copy()
    out["status"] = "FINISHED"
    return out


def study_spread(runs: pd.DataFrame, arm: str) -> dict:
    """Per-study mean test accuracy of ``arm``: median, lowest and highest, and the median
    over studies of the seed interval's half-width."""
    from ..stats import t_interval
    done = runs[(runs["arm"] == arm) & (runs["status"] == "FINISHED")]
    means, halves = [], []
    for _, rows in done.groupby("study"):
        interval = t_interval(rows["test_accuracy"])
        means.append(interval.mean)
        halves.append(interval.half_width)
    if not means:
        return {"median": np.nan, "low": np.nan, "high": np.nan, "half": np.nan, "studies": 0}
    return {"median": float(np.median(means)), "low": float(min(means)),
            "high": float(max(means)), "half": float(np.nanmedian(halves)), "studies": len(means)}


def p_best(runs: pd.DataFrame, arms: list[str], seed: int, n: int = BOOTSTRAP) -> dict[str, float]:
    """Probability that each arm has the highest mean test accuracy, by a bootstrap that
    resamples studies and seeds with replacement (the same draws for every arm, keeping the
    pairing); ties split evenly. The Generator comes from ``seed``."""
    done = runs[runs["status"] == "FINISHED"]
    table = done.pivot_table(index=["study", "seed"], columns="arm", values="test_accuracy")
    table = table.reindex(columns=arms).dropna()
    if table.empty:
        return {a: np.nan for a in arms}
    studies = np.array(sorted(table.index.get_level_values(0).unique()))
    seeds = np.array(sorted(table.index.get_level_values(1).unique()))
    cube = np.stack([table.xs(s, level="study").reindex(seeds).to_numpy() for s in studies])
    rng = np.random.default_rng(seed_sequence(seed, "p-best"))
    wins = np.zeros(len(arms))
    for _ in range(n):
        pick = cube[rng.integers(0, len(studies), len(studies))][:, rng.integers(0, len(seeds), len(seeds))]
        means = np.nanmean(pick, axis=(0, 1))
        best = np.flatnonzero(means == means.max())
        wins[best] += 1 / len(best)
    return dict(zip(arms, (wins / n).tolist()))


def to_target(runs: pd.DataFrame, arm: str) -> str:
    """Epochs to the validation target over every study's runs of ``arm`` (censored runs
    shown as ``>epochs``)."""
    return to_target_cell(runs[(runs["arm"] == arm) & (runs["status"] == "FINISHED")])


def combined_summary(tracker, parents: list[str]) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """``(summary, runs, structure)``: the summary of the study-averaged runs, its
    ``to_target`` taken over every study's runs."""
    runs = study_runs(tracker, parents)
    structure = load_structure(tracker, parents[0])
    summary = summarize(average_over_studies(runs), structure)
    summary["to_target"] = [to_target(runs, arm) for arm in summary["arm"]]
    return summary, runs, structure
