"""Several ``bench worker`` processes sharing one study on a real PostgreSQL server, and the
RDB heartbeat retrying the trial of a worker killed with SIGKILL.

The server comes from ``.ci/services.sh`` (``BENCH_TEST_POSTGRES_URL``). Without it these
tests skip, saying how to enable them; with ``BENCH_REQUIRE_SERVICES=1`` (CI) they fail
instead. Every test uses its own study (a unique study prefix) in the shared database.
"""

from __future__ import annotations

import os
import re
import signal
import time
from collections import Counter

import pytest
from optuna.trial import TrialState
from searchtest_util import (DATASET, counted, load_study, start_bench, trial_runs, unique)

from bench.search import run_search
from experiments import get_experiment

EXPERIMENT = "ablation"
ARM = "momentum"
ENABLE = "bash .ci/services.sh && source .ci/services.env"
# Short heartbeats so that a dead worker's trial is failed within seconds, not 20 s.
HEARTBEAT = {"BENCH_HEARTBEAT_INTERVAL": "1", "BENCH_GRACE_PERIOD": "3"}


def _unavailable(reason: str):
    if os.environ.get("BENCH_REQUIRE_SERVICES") == "1":
        pytest.fail(f"BENCH_REQUIRE_SERVICES=1 but {reason}; run `{ENABLE}` first")
    pytest.skip(f"{reason}; to run the PostgreSQL tests: `{ENABLE}`")


@pytest.fixture(scope="session")
def pg_url() -> str:
    url = os.environ.get("BENCH_TEST_POSTGRES_URL")
    if not url:
        _unavailable("BENCH_TEST_POSTGRES_URL is not set")
    try:
        import psycopg2
    except ImportError:
        _unavailable("psycopg2 is not installed (pip install -e '.[postgres]')")
    try:
        psycopg2.connect(url, connect_timeout=5).close()
    except psycopg2.OperationalError as exc:
        _unavailable(f"no PostgreSQL server at BENCH_TEST_POSTGRES_URL ({str(exc).strip()})")
    return url


def _prepare(store, pg_url: str, budget: int, epochs: int) -> str:
    """A fresh study of ``budget`` trials on PostgreSQL, with no trial run yet."""
    prefix = unique("t")
    experiment = get_experiment(EXPERIMENT).select([ARM]).map_configs(
        dataset=DATASET, epochs=epochs, eval_every=1)
    run_search(experiment, store.tracker(), trials=budget, storage_url=pg_url, jobs=0,
               study_prefix=prefix, pruner="none", quiet=True)
    return f"{prefix}{EXPERIMENT}.{DATASET}.{ARM}"


def _ran(log) -> int:
    return int(re.search(r"worker ran (\d+) trial", log.read_text()).group(1))


def _wait(workers, logs, timeout=180):
    for worker, log in zip(workers, logs):
        assert worker.wait(timeout=timeout) == 0, log.read_text()[-3000:]


@pytest.mark.slow
def test_several_workers_share_one_study_and_finish_exactly_the_budget(pg_url, mlflow_store,
                                                                       tmp_path):
    budget = 12
    study_name = _prepare(mlflow_store, pg_url, budget, epochs=3)
    logs = [tmp_path / f"worker-{i}.log" for i in range(3)]
    workers = [start_bench(["worker", "--study", study_name, "--storage", pg_url], tmp_path, log)
               for log in logs]
    _wait(workers, logs)

    study = load_study(study_name, pg_url)
    assert len(counted(study)) == budget
    numbers = [t.number for t in study.trials]
    assert len(numbers) == len(set(numbers))
    assert sum(_ran(log) for log in logs) == budget
    params = Counter(tuple(sorted(t.params.items())) for t in counted(study))
    assert max(params.values()) == 1  # the workers' samplers are seeded apart
    keys = [r.data.tags["bench.trial_key"] for r in trial_runs(mlflow_store.client, EXPERIMENT)]
    assert len(keys) == len(set(keys)) == budget


@pytest.mark.slow
def test_the_heartbeat_retries_the_trial_of_a_killed_worker(pg_url, mlflow_store, tmp_path):
    budget = 8
    study_name = _prepare(mlflow_store, pg_url, budget, epochs=15)
    logs = [tmp_path / f"worker-{i}.log" for i in range(2)]
    workers = [start_bench(["worker", "--study", study_name, "--storage", pg_url], tmp_path,
                           log, **HEARTBEAT) for log in logs]
    pids = {w.pid: w for w in workers}
    victim = None
    deadline = time.monotonic() + 120
    while victim is None and time.monotonic() < deadline:
        time.sleep(0.1)
        study = load_study(study_name, pg_url)
        for trial in study.get_trials(states=(TrialState.RUNNING,)):
            if trial.user_attrs.get("pid") in pids and "mlflow_run_id" in trial.user_attrs:
                victim = trial
                pids[trial.user_attrs["pid"]].send_signal(signal.SIGKILL)
                break
    assert victim is not None, logs[0].read_text()[-3000:]
    killed = pids.pop(victim.user_attrs["pid"])
    killed.wait(timeout=30)
    _wait(list(pids.values()), [tmp_path / f"worker-{i}.log" for i, w in enumerate(workers)
                                if w.pid in pids])

    study = load_study(study_name, pg_url)
    trials = {t.number: t for t in study.trials}
    assert trials[victim.number].state.name == "FAIL"
    retries = [t for t in study.trials if t.system_attrs.get("failed_trial") == victim.number]
    assert len(retries) == 1
    assert retries[0].params == victim.params and retries[0].state.name == "COMPLETE"
    assert len(counted(study)) == budget
    assert max(Counter(tuple(sorted(t.params.items())) for t in counted(study)).values()) == 1
    killed_run = mlflow_store.client.get_run(victim.user_attrs["mlflow_run_id"])
    assert killed_run.info.status == "KILLED"

