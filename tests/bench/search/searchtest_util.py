"""Helpers for the search tests: run ``python -m bench``, read Optuna studies and MLflow runs."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
DATASET = "digits"          # scikit-learn's bundled 8x8 digits: offline and fast
ARMS = ("softmax-ce", "momentum")


def bench_env(**extra: str) -> dict[str, str]:
    """This checkout importable, no tracking URI or services flags inherited."""
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env["MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"] = "false"
    env.update(extra)
    return env


def bench_cmd(*args) -> list[str]:
    return [sys.executable, "-m", "bench", *map(str, args)]


def run_bench(args, cwd, timeout=240, **env) -> subprocess.CompletedProcess:
    proc = subprocess.run(bench_cmd(*args), cwd=cwd, env=bench_env(**env), capture_output=True,
                          text=True, timeout=timeout)
    return proc


def start_bench(args, cwd, log: Path, **env) -> subprocess.Popen:
    """A ``python -m bench`` process in the background, its output in ``log``."""
    out = open(log, "w")
    return subprocess.Popen(bench_cmd(*args), cwd=cwd, env=bench_env(**env), stdout=out,
                            stderr=subprocess.STDOUT, text=True)


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}-"


def load_study(name: str, storage_url: str | None):
    import optuna

    from bench.search.storage import open_storage
    return optuna.load_study(study_name=name, storage=open_storage(storage_url, heartbeat=False))


def counted(study) -> list:
    from bench.search.budget import counted_trials
    return counted_trials(study)


def runs(client, experiment_name: str, query: str = "") -> list:
    exp = client.get_experiment_by_name(experiment_name)
    if exp is None:
        return []
    return client.search_runs([exp.experiment_id], query, max_results=5000)


def trial_runs(client, experiment_name: str, study: str | None = None) -> list:
    query = "tags.`bench.kind` = 'trial'"
    if study:
        query += f" and tags.`bench.study` = '{study}'"
    return runs(client, experiment_name, query)


@dataclass
class Store:
    """A real MLflow SQLite store."""
    root: Path
    uri: str
    client: object  # mlflow.tracking.MlflowClient

    def tracker(self):
        from bench.tracking import Tracker
        return Tracker(self.uri)


def new_store(empty_mlflow_db: Path, root: Path) -> Store:
    """A copy of the migrated, empty ``empty_mlflow_db`` at ``root/mlflow.db``."""
    from mlflow.tracking import MlflowClient
    root.mkdir(parents=True, exist_ok=True)
    shutil.copy(empty_mlflow_db, root / "mlflow.db")
    uri = f"sqlite:///{root}/mlflow.db"
    return Store(root, uri, MlflowClient(tracking_uri=uri))
