"""Ablation tables built from what MLflow holds, never from in-memory state.

``load_runs`` reads the child runs of one parent run (``bench.store``) into pandas,
``summarize`` computes the per-arm statistics, and ``bench.tables`` renders them.
"""

from __future__ import annotations

import json
import math
import os
import tempfile

import pandas as pd

from . import tags as T
from .stats import paired_difference, t_interval
from .store import children, find_parent_run

__all__ = ["load_structure", "load_runs", "summarize", "find_parent_run", "write_atomic",
           "STRUCTURE_FILE", "METRIC_COLUMNS"]

STRUCTURE_FILE = "experiment.json"
METRIC_COLUMNS = ("test_accuracy", "test_loss", "epochs_run", "run_seconds", "diverged",
                  "final_val_loss", "final_val_accuracy")
_NEWEST_FIRST = ["attributes.start_time DESC"]  # the order mlflow.search_runs returned


def load_structure(tracker, parent_id: str) -> dict:
    """Arms, comparisons and reference figures, stored on the parent run when it started."""
    with tempfile.TemporaryDirectory() as tmp:
        path = tracker.client.download_artifacts(parent_id, STRUCTURE_FILE, tmp)
        with open(path) as fh:
            return json.load(fh)


def load_runs(tracker, parent_id: str) -> pd.DataFrame:
    """One row per child run: arm, seed, status and final metrics."""
    parent = tracker.client.get_run(parent_id)
    runs = children(tracker, parent.info.experiment_id, parent_id, order_by=_NEWEST_FIRST)
    if not runs:
        return pd.DataFrame(columns=["arm", "seed", "status"])
    out = pd.DataFrame({
        "run_id": [r.info.run_id for r in runs], "arm": [r.data.tags[T.ARM] for r in runs],
        "seed": [int(r.data.tags[T.SEED]) for r in runs],
        "status": [r.info.status for r in runs],
    })
    for col in METRIC_COLUMNS:
        out[col] = [float(r.data.metrics.get(col, math.nan)) for r in runs]
    return out.sort_values(["arm", "seed"]).reset_index(drop=True)


def _by_seed(runs: pd.DataFrame, arm: str, column: str) -> dict[int, float]:
    rows = runs[(runs["arm"] == arm) & (runs["status"] == "FINISHED")]
    return dict(zip(rows["seed"].astype(int), rows[column].astype(float)))


def summarize(runs: pd.DataFrame, structure: dict) -> pd.DataFrame:
    """Per arm: mean and 95% t-interval over seeds, paired changes, epochs, time."""
    rows = []
    baseline = structure["baseline"]
    for arm in structure["arms"]:
        name = arm["name"]
        mine = runs[runs["arm"] == name]
        done = mine[mine["status"] == "FINISHED"]
        acc, loss = t_interval(done["test_accuracy"]), t_interval(done["test_loss"])
        row = {
            "arm": name, "change": arm["description"], "compare_to": arm.get("compare_to"),
            "runs": int(len(done)), "failed": int((mine["status"] != "FINISHED").sum()),
            "diverged": int((done["diverged"] > 0).sum()),
            "acc_mean": acc.mean, "acc_low": acc.low, "acc_high": acc.high,
            "loss_mean": loss.mean, "loss_low": loss.low, "loss_high": loss.high,
            "epochs_mean": float(done["epochs_run"].mean()) if len(done) else math.nan,
            "seconds_mean": float(done["run_seconds"].mean()) if len(done) else math.nan,
        }
        for prefix, other in (("prev", arm.get("compare_to")), ("base", baseline)):
            if other is None or other == name:
                row.update({f"d_{prefix}_acc": math.nan, f"d_{prefix}_low": math.nan,
                            f"d_{prefix}_high": math.nan, f"d_{prefix}_p": math.nan})
                continue
            pd_ = paired_difference(_by_seed(runs, name, "test_accuracy"),
                                    _by_seed(runs, other, "test_accuracy"))
            row.update({f"d_{prefix}_acc": pd_.diff.mean, f"d_{prefix}_low": pd_.diff.low,
                        f"d_{prefix}_high": pd_.diff.high, f"d_{prefix}_p": pd_.p_value})
        ref = arm.get("reference") or {}
        row["ref_accuracy"] = ref.get("test_accuracy", math.nan)
        row["ref_loss"] = math.nan if ref.get("test_loss") is None else ref["test_loss"]
        rows.append(row)
    return pd.DataFrame(rows)


def write_atomic(path: str, text: str) -> None:
    """Write ``text`` so that readers see the old file or the new one, never half of one."""
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path) or ".", prefix=".tmp-")
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
