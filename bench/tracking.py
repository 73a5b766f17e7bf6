"""MLflow at the edge: a parent run per invocation, a child run per (arm, seed).

Everything goes through ``MlflowClient`` with explicit run ids (no global active run), and
metric histories are sent with ``log_batch`` in chunks rather than one call per value.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Iterable

__all__ = ["DEFAULT_TRACKING_URI", "resolve_tracking_uri", "Tracker", "EPOCH_METRICS"]

DEFAULT_TRACKING_URI = "sqlite:///mlflow.db"
EPOCH_METRICS = ("train_loss", "val_loss", "val_accuracy", "lr", "seconds")
_BATCH = 1000  # MLflow's limit of metrics per log_batch call


def resolve_tracking_uri(uri: str | None) -> str:
    """``--tracking-uri``, else ``MLFLOW_TRACKING_URI``, else a SQLite file in this directory."""
    return uri or os.environ.get("MLFLOW_TRACKING_URI") or DEFAULT_TRACKING_URI


def _artifact_root(uri: str) -> str | None:
    """Keep a SQLite store's artifacts beside its database file."""
    if uri.startswith("sqlite:///"):
        db = os.path.abspath(uri[len("sqlite:///"):])
        return "file://" + os.path.join(os.path.dirname(db), "mlartifacts")
    return None


class Tracker:
    def __init__(self, tracking_uri: str | None = None):
        from mlflow.tracking import MlflowClient
        self.uri = resolve_tracking_uri(tracking_uri)
        self.client = MlflowClient(tracking_uri=self.uri)

    # -- experiments and runs --------------------------------------------------------------------
    def experiment_id(self, name: str) -> str:
        exp = self.client.get_experiment_by_name(name)
        if exp is not None:
            if exp.lifecycle_stage == "deleted":
                self.client.restore_experiment(exp.experiment_id)
            return exp.experiment_id
        root = _artifact_root(self.uri)
        location = f"{root}/{name}" if root else None
        return self.client.create_experiment(name, artifact_location=location)

    def start_run(self, experiment_id: str, name: str, tags: dict[str, str],
                  parent_id: str | None = None, description: str | None = None) -> str:
        tags = dict(tags)
        if parent_id:
            tags["mlflow.parentRunId"] = parent_id
        if description:
            tags["mlflow.note.content"] = description
        run = self.client.create_run(experiment_id, tags=tags, run_name=name)
        return run.info.run_id

    def log_params(self, run_id: str, params: dict[str, str]) -> None:
        from mlflow.entities import Param
        items = [Param(k, str(v)) for k, v in params.items()]
        for i in range(0, len(items), 100):
            self.client.log_batch(run_id, params=items[i:i + 100])

    def set_tags(self, run_id: str, tags: dict[str, str]) -> None:
        from mlflow.entities import RunTag
        items = [RunTag(k, str(v)) for k, v in tags.items()]
        for i in range(0, len(items), 100):
            self.client.log_batch(run_id, tags=items[i:i + 100])

    def log_metrics(self, run_id: str, series: Iterable[tuple[str, float, int]]) -> int:
        """Log ``(key, value, step)`` triples in batches; returns how many were sent."""
        from mlflow.entities import Metric
        now = int(time.time() * 1000)
        items = [Metric(k, float(v), now, int(s)) for k, v, s in series]
        for i in range(0, len(items), _BATCH):
            self.client.log_batch(run_id, metrics=items[i:i + _BATCH])
        return len(items)

    def log_artifact(self, run_id: str, path: str | None) -> None:
        if path and os.path.exists(path):
            self.client.log_artifact(run_id, path)

    def log_json(self, run_id: str, obj, name: str) -> None:
        self.client.log_dict(run_id, obj, name)

    def end(self, run_id: str, status: str) -> None:
        self.client.set_terminated(run_id, status=status)

    # -- a finished run -------------------------------------------------------------------------
    def record_result(self, run_id: str, result) -> None:
        """Per-epoch histories, final metrics, flags and artifacts of a ``RunResult``."""
        series = []
        for rec in result.history:
            for key in EPOCH_METRICS:
                value = rec[key]
                if key.startswith("val_") and math.isnan(value):
                    continue  # not evaluated this epoch: no point rather than a NaN point
                series.append((key, value, rec["epoch"]))
        series += [(k, v, 0) for k, v in result.final_metrics().items()]
        self.log_metrics(run_id, series)
        fp = result.extra.get("dataset_fingerprint") or {}
        self.set_tags(run_id, {
            "bench.diverged": str(result.diverged).lower(),
            "bench.stop_reason": result.stop_reason,
            "bench.dataset_fingerprint": json.dumps(fp, sort_keys=True)[:4900],
        })
        self.log_artifact(run_id, result.weights_path)
        self.log_artifact(run_id, result.curve_path)
