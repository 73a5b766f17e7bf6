"""Per-arm statistics of one invocation's runs: the numbers every table and figure shows.

One rule for every column: each FINISHED run counts once, scored on the weights of its best
validation epoch. A run that diverged is rolled back to that checkpoint and counted like any
other (and in the ``diverged`` count); one that diverged before its first validation has no
checkpoint: its accuracy is what its non-finite outputs give and its loss is infinite, so it
pulls the arm's accuracy down and makes the loss mean infinite rather than vanishing.

Comparisons ("vs previous" and "vs baseline", each a family corrected with Holm) are paired
by seed when both arms' runs drew common random numbers (``bench.streams``), else Welch's.
"""

from __future__ import annotations

import math

import pandas as pd

from .runner import STREAMS
from .stats import Comparison, compare, correct_family, t_interval
from .targets import format_censored

__all__ = ["summarize", "to_target_cell", "FAMILIES", "PAIRED_STREAMS"]

FAMILIES = (("prev", "vs previous"), ("base", "vs baseline"))
PAIRED_STREAMS = STREAMS   # runs drawn this way are paired


def _finished(runs: pd.DataFrame, arm: str) -> pd.DataFrame:
    return runs[(runs["arm"] == arm) & (runs["status"] == "FINISHED")]


def _by_seed(runs: pd.DataFrame, arm: str, column: str = "test_accuracy") -> dict[int, float]:
    rows = _finished(runs, arm)
    return dict(zip(rows["seed"].astype(int), rows[column].astype(float)))


def _paired(runs: pd.DataFrame, a: str, b: str) -> bool:
    if "streams" not in runs:
        return False
    both = runs[runs["arm"].isin([a, b]) & (runs["status"] == "FINISHED")]
    return bool(len(both)) and bool((both["streams"] == PAIRED_STREAMS).all())


def _mean(frame: pd.DataFrame, column: str) -> float:
    return float(frame[column].mean()) if column in frame and len(frame) else math.nan


def _arm_row(runs: pd.DataFrame, arm: dict) -> dict:
    name = arm["name"]
    mine = runs[runs["arm"] == name]
    done = _finished(runs, name)
    acc, loss = t_interval(done["test_accuracy"]), t_interval(done["test_loss"])
    diverged = done["diverged"] > 0 if "diverged" in done else pd.Series(False, index=done.index)
    no_ckpt = diverged & done["best_epoch"].isna() if "best_epoch" in done else diverged & False
    kernels = sorted(set(done["blas_kernel"].dropna())) if "blas_kernel" in done else []
    return {
        "arm": name, "change": arm["description"], "compare_to": arm.get("compare_to"),
        "runs": int(len(done)), "failed": int((mine["status"] != "FINISHED").sum()),
        "diverged": int(diverged.sum()), "no_checkpoint": int(no_ckpt.sum()),
        "missing": acc.missing,
        "acc_mean": acc.mean, "acc_low": acc.low, "acc_high": acc.high,
        "loss_mean": loss.mean, "loss_low": loss.low, "loss_high": loss.high,
        "best_epoch_mean": _mean(done, "best_epoch"), "epochs_mean": _mean(done, "epochs_run"),
        "seconds_mean": _mean(done, "run_seconds"), "blas_kernels": "; ".join(kernels),
        "to_target": to_target_cell(done),
        "ref_accuracy": (arm.get("reference") or {}).get("test_accuracy", math.nan),
        "ref_loss": _nan_if_none((arm.get("reference") or {}).get("test_loss")),
    }


def to_target_cell(done: pd.DataFrame) -> str:
    """Median epochs to the data set's validation target, censored runs as ``>epochs``."""
    if "target_reached" not in done:
        return "–"
    known = done[done["target_reached"].notna()]
    if known.empty:
        return "–"
    return format_censored(known["target_epoch"], known["target_reached"].astype(bool),
                           known["epochs_run"])


def _nan_if_none(value) -> float:
    return math.nan if value is None else float(value)


def _comparison_columns(prefix: str, other: str | None, c: Comparison | None) -> dict:
    keys = ("vs", "acc", "low", "high", "p", "padj", "test", "effect", "r", "detectable",
            "needed", "verdict", "dropped", "n")
    if c is None:
        return {f"d_{prefix}_{k}": (None if k in ("vs", "test", "verdict") else math.nan)
                for k in keys}
    values = (other, c.diff.mean, c.diff.low, c.diff.high, c.p_value, c.p_adjusted, c.test,
              c.effect, c.correlation, c.detectable,
              math.nan if c.seeds_needed is None else float(c.seeds_needed), c.verdict,
              float(c.dropped), float(c.n))
    return {f"d_{prefix}_{k}": v for k, v in zip(keys, values)}


def summarize(runs: pd.DataFrame, structure: dict) -> pd.DataFrame:
    """One row per arm: intervals over seeds, both comparison families with Holm-adjusted
    p-values and verdicts, epochs (scored and run), time, kernels and the reference figures."""
    rows = [_arm_row(runs, arm) for arm in structure["arms"]]
    for prefix, _ in FAMILIES:
        pairs = []
        for arm in structure["arms"]:
            other = arm.get("compare_to") if prefix == "prev" else structure["baseline"]
            if other is None or other == arm["name"]:
                pairs.append((None, None))
                continue
            pairs.append((other, compare(_by_seed(runs, arm["name"]), _by_seed(runs, other),
                                         paired=_paired(runs, arm["name"], other))))
        done = iter(correct_family([c for _, c in pairs if c is not None]))
        for row, (other, c) in zip(rows, pairs):
            row.update(_comparison_columns(prefix, other, next(done) if c is not None else None))
    return pd.DataFrame(rows)
