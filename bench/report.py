"""Ablation tables built from what MLflow holds, never from in-memory state.

``load_runs`` reads the child runs of one parent run (``bench.store``) into pandas,
``summarize`` computes the per-arm statistics, and ``bench.tables`` renders them.
"""

from __future__ import annotations

import json
import math
import tempfile

import pandas as pd

from . import tags as T
from .files import NotWritten, write_atomic  # re-exported: scripts import them from here
from .store import find_parent_run, invocation_runs
from .summary import summarize

__all__ = ["load_structure", "load_runs", "summarize", "find_parent_run", "write_atomic", "NotWritten",
           "STRUCTURE_FILE", "METRIC_COLUMNS"]

STRUCTURE_FILE = "experiment.json"
METRIC_COLUMNS = ("test_accuracy", "test_loss", "epochs_run", "best_epoch", "run_seconds",
                  "diverged", "final_val_loss", "final_val_accuracy", "target_epoch",
                  "target_seconds")
_NEWEST_FIRST = ["attributes.start_time DESC"]  # the order mlflow.search_runs returned


def load_structure(tracker, parent_id: str) -> dict:
    """Arms, comparisons and reference figures, stored on the parent run when it started."""
    with tempfile.TemporaryDirectory() as tmp:
        path = tracker.client.download_artifacts(parent_id, STRUCTURE_FILE, tmp)
        with open(path) as fh:
            return json.load(fh)


def _metric(run, name: str) -> float:
    """A final metric, with the infinities MLflow could not store (logged as NaN and named
    in ``bench.infinite_metrics``) restored."""
    infinite = (run.data.tags.get(T.INFINITE_METRICS) or "").split(",")
    if name in infinite:
        return math.inf
    if f"-{name}" in infinite:
        return -math.inf
    return float(run.data.metrics.get(name, math.nan))


def load_runs(tracker, parent_id: str) -> pd.DataFrame:
    """One row per child run: arm, seed, status and final metrics."""
    parent = tracker.client.get_run(parent_id)
    runs = invocation_runs(tracker, parent.info.experiment_id, parent_id, order_by=_NEWEST_FIRST)
    if not runs:
        return pd.DataFrame(columns=["arm", "seed", "status"])
    out = pd.DataFrame({
        "run_id": [r.info.run_id for r in runs], "arm": [r.data.tags[T.ARM] for r in runs],
        "seed": [int(r.data.tags[T.SEED]) for r in runs],
        "status": [r.info.status for r in runs],
    })
    for col in METRIC_COLUMNS:
        out[col] = [_metric(r, col) for r in runs]
    out["streams"] = [r.data.tags.get(T.STREAMS) for r in runs]
    # None where no target was recorded (older runs, a data set without one)
    out["target_reached"] = [{"true": True, "false": False}.get(r.data.tags.get(T.TARGET_REACHED))
                             for r in runs]
    out["blas_kernel"] = [r.data.tags.get(T.BLAS_KERNEL) for r in runs]
    return out.sort_values(["arm", "seed"]).reset_index(drop=True)
