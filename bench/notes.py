"""The notes under an ablation table: how the numbers were made and how to read them."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pandas as pd

from experiments.protocols import describe_protocol

from . import tags as T
from .stats import binomial_half_width

__all__ = ["table_notes", "kernels_of"]


def kernels_of(runs: pd.DataFrame) -> list[str]:
    """The BLAS kernels the finished runs computed with (older runs recorded none)."""
    if "blas_kernel" not in runs:
        return []
    return sorted(set(runs.loc[runs["status"] == "FINISHED", "blas_kernel"].dropna()))


def _n_test(description: str) -> int | None:
    found = re.search(r"test ([\d,]+)", description or "")
    return int(found.group(1).replace(",", "")) if found else None


def _seeds_note(summary: pd.DataFrame, runs: pd.DataFrame) -> str:
    counts = sorted(set(summary["runs"]))
    seeds = sorted(runs["seed"].unique().tolist()) if len(runs) else []
    per_arm = (f"{counts[0]} seeds per arm" if len(counts) == 1
               else f"{counts[0]}-{counts[-1]} seeds per arm (see `runs`)")
    shown = seeds if len(seeds) <= 12 else f"{seeds[:3]} … {seeds[-1]}"
    return f"Mean ± 95% Student-t interval over seeds ({per_arm}; seeds {shown})."


def _pairing_note(summary: pd.DataFrame) -> str:
    tests = {t for p in ("prev", "base") for t in summary[f"d_{p}_test"].dropna()}
    r = pd.concat([summary["d_prev_r"], summary["d_base_r"]]).dropna()
    text = ("Runs of every arm at one seed share their random draws (initial weights wherever "
            "the shapes agree, batch order, dropout masks), so differences are paired by seed: "
            "a paired t-test on the seed-wise differences, effect size d_z = mean/sd of the "
            "differences; r is the seed-wise correlation of the two arms' test accuracies "
            "(what the pairing removes).")
    if len(r):
        text += f" Measured r: median {r.median():.2f}, range {r.min():.2f} to {r.max():.2f}."
    if "Welch t" in tests:
        text += (" Comparisons marked g were not paired (their runs did not draw common "
                 "random numbers) and use Welch's t-test with Hedges' g.")
    return text


def _adaptive_note(runs: pd.DataFrame, structure: dict, params: dict) -> str | None:
    """How many seeds each arm got under ``--precision`` and why it stopped there."""
    if "precision" not in params:
        return None
    from .adaptive import Precision
    precision = Precision(float(params["precision"]), int(params["max_seeds"]))
    initial = [int(s) for s in params.get("seeds", "").split(",") if s]
    done = runs[runs["status"] == "FINISHED"]
    by_reason: dict[str, list[str]] = {}
    for arm in structure["arms"]:
        mine = done[done["arm"] == arm["name"]]
        plan = precision.plan(initial, dict(zip(mine["seed"].astype(int),
                                                mine["test_accuracy"].astype(float))))
        reason = plan.reason or "unfinished"
        by_reason.setdefault(reason, []).append(f"{arm['name']} ({len(mine)})")
    parts = [f"{reason}: {', '.join(arms)}" for reason, arms in by_reason.items()]
    return (f"Adaptive seeds: rounds until each arm's 95% half-width is at most "
            f"{precision.target * 100:g} pp, at most {precision.max_seeds} seeds per arm; "
            f"first round {initial}. " + "; ".join(parts) + ".")


def table_notes(summary: pd.DataFrame, runs: pd.DataFrame, structure: dict, tags: dict,
                parent_id: str, command: str | None, params: dict | None = None) -> list[str]:
    dataset = tags.get(T.DATASET, "unknown")
    description = tags.get(T.DATASET_DESCRIPTION, dataset)
    arms = structure["arms"]
    protocols = {describe_protocol(SimpleNamespace(**a["config"])) for a in arms if a.get("config")}
    notes = [f"Dataset: {description}.",
             "Protocol: " + "; ".join(sorted(protocols)) + ". Selection (best epoch, any "
             "tuning) sees the validation split only; `best epoch` is the epoch whose weights "
             "were tested, `epochs run` how many were trained.",
             _seeds_note(summary, runs), _adaptive_note(runs, structure, params or {}),
             _pairing_note(summary),
             "p (Holm): Holm-Bonferroni adjusted within each comparison table. Verdict: better "
             "or worse where the adjusted p < 0.05; otherwise no detectable difference, with the "
             "smallest difference these seeds would detect with 80% power at the table's "
             "strictest Holm level (0.05/m) and the seeds that would detect the observed one.",
             "Every finished run counts in every column, scored on its best-validation weights; "
             "a diverged run is rolled back to its best checkpoint, and one that diverged before "
             "any validation counts with its chance-level accuracy and an infinite loss."]
    notes = [n for n in notes if n]
    n_test = _n_test(description)
    acc = summary["acc_mean"].dropna()
    if n_test and len(acc):
        typical = float(acc.median())
        notes.append(f"Test-set sampling error, which the seed intervals leave out (every run "
                     f"is scored on the same {n_test:,} test images): one accuracy near "
                     f"{typical * 100:.0f}% has a binomial 95% half-width of "
                     f"±{binomial_half_width(typical, n_test) * 100:.2f} pp.")
    kernels = kernels_of(runs)
    if len(kernels) > 1:
        notes.append(f"WARNING: the runs used different BLAS kernels ({', '.join(kernels)}); "
                     "their digits are not comparable bit for bit.")
    elif kernels:
        notes.append(f"BLAS kernel of every run: {kernels[0]}, 1 thread per run. Re-running on "
                     "the same kernel reproduces every digit; on another kernel the digits move "
                     "and the verdicts should not.")
    sha = tags.get(T.GIT_COMMIT, "?")[:12]
    dirty = ", dirty tree" if tags.get(T.GIT_DIRTY) == "true" else ""
    notes.append(f"Made by `{command or tags.get(T.COMMAND, '?')}` (MLflow parent run "
                 f"`{parent_id}`, commit {sha}{dirty}); `python -m bench report` rebuilds it "
                 "from MLflow.")
    if structure.get("reference_note") and dataset == "mnist":
        notes.append(structure["reference_note"])
    return notes
