"""The per-arm level of an invocation: parent run -> one run per arm -> one run per seed.

An arm run holds its seeds' runs as children and, once the invocation is reported, the seed
aggregates as metrics (mean and interval bounds, seeds, diverged count, the difference from
the compared arm with its interval and Holm-adjusted p) and the verdict as a tag, so MLflow's
own runs table, sorting, charts and compare view show the ablation without any filtering.
"""

from __future__ import annotations

import math

import pandas as pd

from . import store
from . import tags as T

__all__ = ["ArmRuns", "arm_metrics", "log_arm_summaries", "arm_run_ids"]


class ArmRuns:
    """Opens each arm's run on first use, or reuses it when an invocation resumes."""

    def __init__(self, tracker, experiment_id: str, parent_id: str, tags: dict[str, str],
                 experiment, resume: bool):
        self.tracker, self.experiment_id, self.parent_id = tracker, experiment_id, parent_id
        self.tags, self.experiment = tags, experiment
        self.ids: dict[str, str] = {}
        if resume:
            for run in store.arm_runs(tracker, experiment_id, parent_id):
                arm = run.data.tags.get(T.ARM)
                if arm and arm not in self.ids:
                    tracker.claim(run.info.run_id)
                    self.ids[arm] = run.info.run_id

    def get(self, arm_name: str) -> str:
        if arm_name not in self.ids:
            arm = self.experiment.arm(arm_name)
            run_id = self.tracker.start_run(
                self.experiment_id, arm.name, parent_id=self.parent_id,
                tags={**self.tags, T.KIND: "arm", T.ARM: arm.name, T.INVOCATION: self.parent_id},
                description=arm.description + (f" (vs {arm.compare_to})" if arm.compare_to else ""))
            self.ids[arm_name] = run_id  # before anything else can fail: it must be closed
            self.tracker.log_params(run_id, arm.config.as_params())
        return self.ids[arm_name]

    def close(self, status: str = "FINISHED") -> None:
        for run_id in self.ids.values():
            self.tracker.end(run_id, status)


_METRICS = {  # arm-run metric -> summary column (accuracy and differences in fractions)
    "test_accuracy_mean": "acc_mean", "test_accuracy_ci_low": "acc_low",
    "test_accuracy_ci_high": "acc_high", "test_loss_mean": "loss_mean",
    "test_loss_ci_low": "loss_low", "test_loss_ci_high": "loss_high", "seeds": "runs",
    "diverged_runs": "diverged", "failed_runs": "failed", "best_epoch_mean": "best_epoch_mean",
    "delta_vs_previous": "d_prev_acc", "delta_vs_previous_ci_low": "d_prev_low",
    "delta_vs_previous_ci_high": "d_prev_high", "p_holm_vs_previous": "d_prev_padj",
    "delta_vs_baseline": "d_base_acc", "delta_vs_baseline_ci_low": "d_base_low",
    "delta_vs_baseline_ci_high": "d_base_high", "p_holm_vs_baseline": "d_base_padj",
}


def arm_metrics(row) -> dict[str, float]:
    """The finite aggregates of one summary row, by arm-run metric name, to 4 significant
    digits (what MLflow's runs table can show; ``table.csv`` keeps more)."""
    out = {}
    for name, column in _METRICS.items():
        value = getattr(row, column)
        if value is not None and math.isfinite(float(value)):
            out[name] = float(f"{float(value):.4g}")
    return out


def _description(row) -> str:
    """The arm's result in words, as its MLflow run's description (Markdown)."""
    from .tables import _ci, format_p, verdict_text
    lines = [f"Change: {row.change}", "",
             f"Test accuracy {_ci(row.acc_mean, row.acc_low, row.acc_high, 100)} % over "
             f"{row.runs} seeds (95% interval)."]
    for prefix, what in (("prev", "the arm it changes"), ("base", "the baseline")):
        other = getattr(row, f"d_{prefix}_vs")
        if isinstance(other, str):
            g = lambda k: getattr(row, f"d_{prefix}_{k}")  # noqa: E731
            lines.append(f"- vs {other} ({what}): {g('acc') * 100:+.2f} pp, p (Holm) "
                         f"{format_p(g('padj'))}: "
                         f"{verdict_text(g('verdict'), g('detectable'), g('needed'), g('acc'))}")
    return "\n".join(lines)


def arm_run_ids(tracker, experiment_id: str, parent_id: str) -> dict[str, str]:
    """Arm name -> its arm run's id, for one invocation."""
    return {r.data.tags.get(T.ARM): r.info.run_id
            for r in store.arm_runs(tracker, experiment_id, parent_id)}


def log_arm_summaries(tracker, experiment_id: str, parent_id: str, summary: pd.DataFrame) -> int:
    """Write each arm's aggregates and verdicts into its arm run (a report of runs made before
    arm runs existed has none to write to). Returns how many arm runs were written."""
    runs = {r.data.tags.get(T.ARM): r for r in store.arm_runs(tracker, experiment_id, parent_id)}
    written = 0
    for row in summary.itertuples():
        run = runs.get(row.arm)
        if run is None:
            continue
        tracker.log_metrics(run.info.run_id, [(k, v, 0) for k, v in arm_metrics(row).items()])
        verdicts = {tag: getattr(row, f"d_{prefix}_verdict")
                    for prefix, tag in (("prev", T.VERDICT_VS_PREVIOUS), ("base", T.VERDICT_VS_BASELINE))
                    if isinstance(getattr(row, f"d_{prefix}_verdict"), str)}
        compared = getattr(row, "d_prev_vs")
        tracker.set_tags(run.info.run_id, {
            **verdicts, **({T.COMPARED_WITH: compared} if isinstance(compared, str) else {}),
            T.NOTE: _description(row)})
        written += 1
    return written
