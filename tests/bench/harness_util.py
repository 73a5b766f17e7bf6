"""Helpers shared by the harness tests (imported by conftest.py and the test modules)."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

# The shared quick run: three arms of the ablation, two seeds, on scikit-learn's digits.
QUICK_ARMS = ("softmax-ce", "momentum", "glorot")
QUICK_SEEDS = (0, 1)
QUICK_DATASET = "digits"
QUICK_EPOCHS = 3  # what --quick sets (with eval_every=1)


def bench_env() -> dict[str, str]:
    """The environment for a ``python -m bench`` subprocess: this checkout importable, no
    tracking URI inherited from the caller."""
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return env


def run_bench(args, cwd, timeout=300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bench", *map(str, args)], cwd=cwd,
                          env=bench_env(), capture_output=True, text=True, timeout=timeout)


def run_dir(results, experiment: str = "ablation", dataset: str = QUICK_DATASET) -> Path:
    """The one folder a run other than the full default one wrote its tables to:
    ``<results>/<experiment>/<dataset>/runs/<date>-<kind>-<run id>/``."""
    found = sorted(p for p in (Path(results) / experiment / dataset / "runs").glob("*") if p.is_dir())
    assert len(found) == 1, f"expected one run folder, found {[p.name for p in found]}"
    return found[0]


def unique_name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def children_of(client, experiment_id: str, parent_id: str) -> list:
    """The (arm, seed) runs of an invocation (nested under its arm runs)."""
    return client.search_runs(
        [experiment_id], f"tags.`bench.invocation` = '{parent_id}' and tags.`bench.kind` = 'run'",
        max_results=1000)


def arm_runs_of(client, experiment_id: str, parent_id: str) -> list:
    return client.search_runs(
        [experiment_id], f"tags.`bench.invocation` = '{parent_id}' and tags.`bench.kind` = 'arm'",
        max_results=1000)
