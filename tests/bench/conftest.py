"""Shared fixtures for the harness tests: one real MLflow SQLite store per test session, and
one quick ablation run in it that many read-back tests share.

Creating a SQLite store runs MLflow's schema migrations (seconds), so every test that needs
a store uses this one, each under its own MLflow experiment name. Nothing here is autouse:
the sibling ``datasets`` and ``perf`` folders are unaffected.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from harness_util import QUICK_ARMS, QUICK_DATASET, QUICK_SEEDS, children_of, run_bench, run_dir


@dataclass
class Store:
    root: Path
    uri: str
    client: object  # mlflow.tracking.MlflowClient


@pytest.fixture(scope="session")
def template_db(tmp_path_factory) -> Path:
    """An empty MLflow SQLite store, migrated once per session: tests that need a store of
    their own copy it (migrating a fresh store takes seconds)."""
    from mlflow.tracking import MlflowClient
    root = tmp_path_factory.mktemp("mlflow-template")
    MlflowClient(tracking_uri=f"sqlite:///{root}/mlflow.db").search_experiments()
    return root / "mlflow.db"


@pytest.fixture(scope="session")
def store(tmp_path_factory) -> Store:
    """A migrated MLflow SQLite store shared by the whole session."""
    from mlflow.tracking import MlflowClient
    root = tmp_path_factory.mktemp("mlflow-store")
    uri = f"sqlite:///{root}/mlflow.db"
    client = MlflowClient(tracking_uri=uri)
    client.search_experiments()  # creates the schema now, once
    return Store(root, uri, client)


@dataclass
class QuickRun:
    uri: str
    client: object
    experiment_id: str
    parent: object            # mlflow Run
    children: list            # mlflow Runs
    results_dir: Path         # the --results-dir given
    cwd: Path
    stdout: str
    stderr: str
    args: list

    @property
    def table_dir(self) -> Path:
        """A --quick run's own folder (the committed results' folder is for full runs)."""
        return run_dir(self.results_dir)

    def child(self, arm: str, seed: int):
        for run in self.children:
            if run.data.tags.get("bench.arm") == arm and run.data.tags.get("bench.seed") == str(seed):
                return run
        raise KeyError((arm, seed))


@pytest.fixture(scope="session")
def quick_run(store, tmp_path_factory) -> QuickRun:
    """``python -m bench run ablation --quick`` (3 arms x 2 seeds on digits, one job) into the
    session store, read back once with ``MlflowClient``."""
    cwd = tmp_path_factory.mktemp("quick-run")
    args = ["run", "ablation", "--quick", "--arms", ",".join(QUICK_ARMS),
            "--seeds", str(len(QUICK_SEEDS)), "--dataset", QUICK_DATASET, "--jobs", "1",
            "--tracking-uri", store.uri, "--results-dir", str(cwd / "results")]
    proc = run_bench(args, cwd)
    assert proc.returncode == 0, proc.stderr
    client = store.client
    exp = client.get_experiment_by_name("ablation")
    assert exp is not None, "the run created no MLflow experiment named 'ablation'"
    parents = client.search_runs([exp.experiment_id], "tags.`bench.kind` = 'parent'")
    assert len(parents) == 1, [p.info.run_name for p in parents]
    parent = parents[0]
    return QuickRun(store.uri, client, exp.experiment_id, parent,
                    children_of(client, exp.experiment_id, parent.info.run_id),
                    cwd / "results", cwd, proc.stdout, proc.stderr, args)


@pytest.fixture(scope="session")
def digits():
    from bench.datasets import load_dataset
    return load_dataset("digits", seed=0, standardize="global", dtype="float32", progress=False)
