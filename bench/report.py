"""Ablation tables built from what MLflow holds, never from in-memory state.

``load_runs`` reads the child runs of one parent run (``mlflow.search_runs`` -> pandas),
``summarize`` computes the per-arm statistics, and ``bench.tables`` renders them.
"""

from __future__ import annotations

import json
import math
import os
import tempfile

import pandas as pd

from .summary import summarize

__all__ = ["load_structure", "load_runs", "summarize", "find_parent_run"]

STRUCTURE_FILE = "experiment.json"


def find_parent_run(tracker, experiment_name: str, dataset: str | None = None) -> str:
    """The newest finished parent run of ``experiment_name`` (optionally on ``dataset``)."""
    exp = tracker.client.get_experiment_by_name(experiment_name)
    if exp is None:
        raise ValueError(f"no MLflow experiment named {experiment_name!r} in {tracker.uri}; "
                         "run `python -m bench run` first")
    query = "tags.`bench.kind` = 'parent' and attributes.status = 'FINISHED'"
    if dataset:
        query += f" and tags.`bench.dataset` = '{dataset}'"
    runs = tracker.client.search_runs([exp.experiment_id], query,
                                      order_by=["attributes.start_time DESC"], max_results=1)
    if not runs:
        where = f" on dataset {dataset!r}" if dataset else ""
        raise ValueError(f"no finished run of {experiment_name!r}{where} in {tracker.uri}")
    return runs[0].info.run_id


def load_structure(tracker, parent_id: str) -> dict:
    """Arms, comparisons and reference figures, stored on the parent run when it started."""
    with tempfile.TemporaryDirectory() as tmp:
        path = tracker.client.download_artifacts(parent_id, STRUCTURE_FILE, tmp)
        with open(path) as fh:
            return json.load(fh)


def load_runs(tracker, parent_id: str) -> pd.DataFrame:
    """One row per child run: arm, seed, status and final metrics."""
    import mlflow
    parent = tracker.client.get_run(parent_id)
    mlflow.set_tracking_uri(tracker.uri)  # search_runs reads the process-wide store
    # Through the tracker's retry, like every client call: a store that is briefly locked or
    # unreachable while the tables are built must not lose the finished ablation's report.
    df = tracker._retry(
        "search_runs", mlflow.search_runs, experiment_ids=[parent.info.experiment_id],
        filter_string=f"tags.mlflow.parentRunId = '{parent_id}'",
        max_results=50000, output_format="pandas")
    if df.empty:
        return pd.DataFrame(columns=["arm", "seed", "status"])
    out = pd.DataFrame({
        "run_id": df["run_id"], "arm": df["tags.bench.arm"],
        "seed": df["tags.bench.seed"].astype(int), "status": df["status"],
    })
    for col in ("test_accuracy", "test_loss", "epochs_run", "best_epoch", "run_seconds",
                "diverged", "final_val_loss", "final_val_accuracy"):
        key = f"metrics.{col}"
        out[col] = df[key].astype(float) if key in df else math.nan
    for col in ("streams", "blas_kernel"):
        key = f"tags.bench.{col}"
        out[col] = df[key] if key in df else None
    return out.sort_values(["arm", "seed"]).reset_index(drop=True)


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
