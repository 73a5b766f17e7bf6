"""Worker processes on the journal file storage: sharing one budget exactly, joining a study
with ``bench worker``, and a worker killed with SIGKILL in the middle of a trial."""

from __future__ import annotations

import os
import re
import signal
import time
from collections import Counter

import pytest
from optuna.trial import TrialState
from searchtest_util import (DATASET, counted, load_study, run_bench, runs, start_bench,
                             trial_runs)

from bench.search import run_search
from experiments import get_experiment

EXPERIMENT = "ablation"
ARM = "softmax-ce"
STUDY = f"{EXPERIMENT}.{DATASET}.{ARM}"


def _experiment(epochs: int = 3):
    return get_experiment(EXPERIMENT).select([ARM]).map_configs(
        dataset=DATASET, epochs=epochs, eval_every=1)


def _ran(stderr: str) -> int:
    match = re.search(r"worker ran (\d+) trial\(s\)", stderr)
    assert match, stderr[-2000:]
    return int(match.group(1))


def test_bench_worker_joins_a_study_and_stops_when_the_budget_is_counted(mlflow_store, tmp_path):
    storage = str(tmp_path / "optuna.journal")
    tracker = mlflow_store.tracker()
    run_search(_experiment(), tracker, trials=2, storage_url=storage, quiet=True)
    # The same search with a larger budget but no local worker: the study waits for others.
    run_search(_experiment(), tracker, trials=4, storage_url=storage, jobs=0, quiet=True)
    assert len(counted(load_study(STUDY, storage))) == 2

    proc = run_bench(["worker", "--study", STUDY, "--storage", storage], tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert _ran(proc.stderr) == 2
    study = load_study(STUDY, storage)
    assert len(counted(study)) == 4 and len(study.trials) == 4
    arm_run = study.user_attrs["bench_settings"]["arm_run_id"]
    for trial in study.trials[2:]:
        run = mlflow_store.client.get_run(trial.user_attrs["mlflow_run_id"])
        assert run.data.tags["mlflow.parentRunId"] == arm_run
        assert run.info.status == "FINISHED"


def test_bench_worker_names_the_studies_of_a_storage_when_the_study_is_unknown(tmp_path):
    import optuna
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend
    storage = str(tmp_path / "optuna.journal")
    optuna.create_study(study_name="other", storage=JournalStorage(JournalFileBackend(storage)))
    proc = run_bench(["worker", "--study", "nope", "--storage", storage], tmp_path)
    assert proc.returncode == 2
    assert "no study 'nope'" in proc.stderr and "other" in proc.stderr


@pytest.mark.slow
def test_two_workers_on_the_default_journal_share_the_budget_exactly(mlflow_store, tmp_path,
                                                                     monkeypatch):
    budget = 10
    monkeypatch.chdir(tmp_path)  # the default storage is ./optuna.journal
    run_search(_experiment(), mlflow_store.tracker(), trials=budget, jobs=0, quiet=True)
    assert (tmp_path / "optuna.journal").is_file()

    args = ["worker", "--study", STUDY, "--storage", "optuna.journal"]
    workers = [start_bench(args, tmp_path, tmp_path / f"worker-{i}.log") for i in range(2)]
    for w in workers:
        assert w.wait(timeout=180) == 0, (tmp_path / "worker-0.log").read_text()[-3000:]
    ran = [_ran((tmp_path / f"worker-{i}.log").read_text()) for i in range(2)]

    study = load_study(STUDY, "optuna.journal")
    numbers = [t.number for t in study.trials]
    assert len(numbers) == len(set(numbers))
    assert len(counted(study)) == budget
    assert sum(ran) == budget  # every trial a worker ran was counted, none twice
    params = Counter(tuple(sorted(t.params.items())) for t in counted(study))
    assert max(params.values()) == 1  # the workers' samplers are seeded apart
    keys = [r.data.tags["bench.trial_key"] for r in trial_runs(mlflow_store.client, EXPERIMENT)]
    assert len(keys) == len(set(keys)) == budget
    assert {f"{STUDY}/{t.number}" for t in counted(study)} == set(keys)


@pytest.mark.slow
def test_a_worker_killed_mid_trial_loses_no_trial_and_its_trial_is_retried(mlflow_store,
                                                                           tmp_path):
    budget = 8
    storage = str(tmp_path / "optuna.journal")
    args = ["search", EXPERIMENT, "--quick", "--epochs", 25, "--arms", ARM, "--trials", budget,
            "--jobs", 2, "--dataset", DATASET, "--no-reseed", "--pruner", "none", "--space", "full",
            "--storage", storage, "--tracking-uri", mlflow_store.uri,
            "--results-dir", tmp_path / "results"]
    search = start_bench(args, tmp_path, tmp_path / "search.log")
    victim = None
    deadline = time.monotonic() + 120
    while victim is None and search.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
        if not (tmp_path / "optuna.journal").exists():
            continue
        try:
            study = load_study(STUDY, storage)
        except KeyError:
            continue
        running = [t for t in study.get_trials(states=(TrialState.RUNNING,))
                   if t.user_attrs.get("pid_trial") == t.number and "mlflow_run_id" in t.user_attrs]
        if running and len(counted(study)) >= 1:
            victim = running[0]
            done_before = {t.number: (t.params, t.value) for t in counted(study)}
            os.kill(victim.user_attrs["pid"], signal.SIGKILL)
    assert victim is not None, (tmp_path / "search.log").read_text()[-3000:]
    assert search.wait(timeout=180) == 0, (tmp_path / "search.log").read_text()[-3000:]

    proc = run_bench(args, tmp_path)  # the same command again
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert f"{budget}/{budget} trials already counted" in proc.stderr

    study = load_study(STUDY, storage)
    trials = {t.number: t for t in study.trials}
    killed = trials[victim.number]
    assert killed.state.name == "FAIL"
    assert killed.system_attrs.get("fail_reason") == "worker died"
    retries = [t for t in study.trials if t.system_attrs.get("failed_trial") == victim.number]
    assert len(retries) == 1
    assert retries[0].params == victim.params and retries[0].state.name == "COMPLETE"
    assert len(counted(study)) == budget
    for number, (params, value) in done_before.items():  # nothing finished was lost or re-run
        assert (trials[number].params, trials[number].value) == (params, value)
    params = Counter(tuple(sorted(t.params.items())) for t in counted(study))
    assert max(params.values()) == 1
    all_runs = runs(mlflow_store.client, EXPERIMENT)
    assert [r.info.run_name for r in all_runs if r.info.status == "RUNNING"] == []
    killed_run = mlflow_store.client.get_run(victim.user_attrs["mlflow_run_id"])
    assert killed_run.info.status == "KILLED"

