"""``bench run --storage`` with ``bench worker`` processes on a real PostgreSQL queue and a
real MLflow server (both on loopback; see conftest.py).

One worker is SIGKILLed while it holds a run: the run is taken again by another worker after
the heartbeat's grace period, and every (arm, seed) ends FINISHED exactly once, nothing is
left RUNNING, and the table equals a local ``--jobs 1`` run's.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections import Counter

import pandas as pd
import pytest
from harness_util import bench_env, run_bench, run_dir, unique_name

ARMS = ("softmax-ce", "momentum", "glorot")
SEEDS = 4
# Short heartbeats, so that a dead worker's run is given up within seconds, not 20 s (a grace of
# 3 s gave up live workers' runs on a two-core machine at load 8: still handled, but slower).
HEARTBEAT = {"BENCH_HEARTBEAT_INTERVAL": "1", "BENCH_GRACE_PERIOD": "6"}


def _run_args(epochs: int, arms=ARMS, seeds=SEEDS) -> list[str]:
    return ["run", "ablation", "--dataset", "digits", "--arms", ",".join(arms),
            "--seeds", str(seeds), "--epochs", str(epochs), "--jobs", "1"]


def start(args, cwd, log, **env) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "bench", *map(str, args)], cwd=cwd,
                            env={**bench_env(), **env}, stdout=open(log, "w"),
                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)


def _kill_a_worker_holding_a_run(queue_url: str, workers: dict, timeout: float = 300):
    """SIGKILL the first of ``workers`` (pid -> Popen) seen running a run it has opened in
    MLflow; returns that trial's user attributes."""
    from optuna.trial import TrialState

    from bench.queue import list_queues, open_queue_storage
    storage = open_queue_storage(queue_url)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for _, study_id in list_queues(storage):
            for trial in storage.get_all_trials(study_id, states=(TrialState.RUNNING,)):
                pid = trial.user_attrs.get("worker", {}).get("pid")
                if pid in workers and "mlflow_run_id" in trial.user_attrs:
                    workers[pid].send_signal(signal.SIGKILL)
                    workers[pid].wait(30)
                    return trial.user_attrs
        time.sleep(0.05)
    raise AssertionError("no worker was seen holding a run")


def _numbers(results_dir) -> tuple[pd.DataFrame, pd.DataFrame]:
    """runs.csv and table.csv without what may differ between equal runs (ids, timings)."""
    folder = run_dir(results_dir)
    # Wall-clock columns (run time, seconds to the target) differ between any two runs.
    runs = pd.read_csv(folder / "runs.csv", dtype=str)
    runs = runs.drop(columns=["run_id"] + [c for c in runs.columns if "seconds" in c])
    table = pd.read_csv(folder / "table.csv", dtype=str)
    table = table.drop(columns=[c for c in table.columns if "seconds" in c])
    return runs.sort_values(["arm", "seed"]).reset_index(drop=True), table


@pytest.mark.slow
def test_a_killed_workers_run_is_retried_and_every_run_finishes_exactly_once(
        queue_url, mlflow_server, tmp_path):
    from mlflow.entities import ViewType
    from mlflow.tracking import MlflowClient

    name = unique_name("queue")
    run = _run_args(epochs=20) + ["--experiment-name", name]
    logs = [tmp_path / f"worker-{i}.log" for i in range(3)]
    workers = {p.pid: p for p in (start(["worker", "--storage", queue_url], tmp_path, log,
                                        **HEARTBEAT) for log in logs)}
    coordinator = start([*run, "--storage", queue_url, "--tracking-uri", mlflow_server,
                         "--results-dir", tmp_path / "shared"], tmp_path,
                        tmp_path / "coordinator.log", **HEARTBEAT)
    victim = _kill_a_worker_holding_a_run(queue_url, workers)
    del workers[victim["worker"]["pid"]]
    assert coordinator.wait(600) == 0, (tmp_path / "coordinator.log").read_text()[-4000:]
    for pid, worker in workers.items():
        assert worker.wait(120) == 0, [log.read_text()[-2000:] for log in logs]

    client = MlflowClient(mlflow_server)
    exp = client.get_experiment_by_name(name)
    every = client.search_runs([exp.experiment_id], "", run_view_type=ViewType.ALL,
                               max_results=1000)
    assert [r.info.run_name for r in every if r.info.status == "RUNNING"] == []
    runs = [r for r in every if r.data.tags.get("bench.kind") == "run"]
    finished = Counter((r.data.tags["bench.arm"], r.data.tags["bench.seed"]) for r in runs
                       if r.info.status == "FINISHED" and r.info.lifecycle_stage == "active")
    assert finished == Counter({(a, str(s)): 1 for a in ARMS for s in range(SEEDS)})
    killed = client.get_run(victim["mlflow_run_id"])
    assert killed.info.status == "KILLED" and killed.info.lifecycle_stage == "deleted"
    successor = client.get_run(killed.data.tags["bench.superseded_by"])
    assert successor.info.status == "FINISHED"
    assert successor.data.tags["bench.run_key"] == killed.data.tags["bench.run_key"]

    local = run_bench([*run, "--tracking-uri", f"sqlite:///{tmp_path / 'local.db'}",
                       "--results-dir", tmp_path / "local"], tmp_path, timeout=600)
    assert local.returncode == 0, local.stderr
    shared_runs, shared_table = _numbers(tmp_path / "shared")
    local_runs, local_table = _numbers(tmp_path / "local")
    pd.testing.assert_frame_equal(shared_runs, local_runs)
    pd.testing.assert_frame_equal(shared_table, local_table)
