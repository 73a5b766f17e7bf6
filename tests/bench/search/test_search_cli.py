"""``python -m bench search`` end to end: a small equal-budget search of two arms, two worker
processes each, on an explicit journal file and a real MLflow SQLite store; then the same
command again, which must find everything done."""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

import pytest
from harness_util import run_dir
from searchtest_util import (ARMS, DATASET, counted, load_study, new_store, run_bench, runs,
                             trial_runs)

pytestmark = pytest.mark.slow  # one search of two arms (and the same command again)
BUDGET = 4
EXPERIMENT = "ablation"


@dataclass
class Search:
    cwd: Path
    args: list
    storage: str
    store: object
    results: Path

    def study(self, arm: str):
        # the default space (lr) names its studies apart from the full spaces'
        return load_study(f"{EXPERIMENT}.{DATASET}.{arm}.lr", self.storage)


@pytest.fixture(scope="module")
def search(empty_mlflow_db, tmp_path_factory) -> Search:
    cwd = tmp_path_factory.mktemp("search-cli")
    store = new_store(empty_mlflow_db, cwd / "mlruns")
    storage = str(cwd / "optuna.journal")
    args = ["search", EXPERIMENT, "--quick", "--arms", ",".join(ARMS), "--trials", BUDGET,
            "--jobs", 2, "--dataset", DATASET, "--tracking-uri", store.uri, "--storage", storage,
            "--results-dir", cwd / "results"]
    proc = run_bench(args, cwd)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return Search(cwd, args, storage, store, run_dir(cwd / "results", EXPERIMENT, DATASET))


def _by_id(store) -> dict:
    return {r.info.run_id: r for r in runs(store.client, EXPERIMENT)}


@pytest.mark.parametrize("arm", ARMS)
def test_each_arm_counts_exactly_the_budget(search, arm):
    study = search.study(arm)
    assert len(counted(study)) == BUDGET
    assert sorted(t.number for t in study.trials) == list(range(BUDGET))


def test_every_trial_is_a_run_nested_under_its_arm_run_under_the_search_run(search):
    all_runs = _by_id(search.store)
    searches = [r for r in all_runs.values() if r.data.tags.get("bench.kind") == "search"]
    assert len(searches) == 1
    search_run = searches[0]
    for arm in ARMS:
        study = search.study(arm)
        arm_runs = [r for r in all_runs.values() if r.data.tags.get("bench.kind") == "arm-search"
                    and r.data.tags.get("bench.arm") == arm]
        assert len(arm_runs) == 1, arm
        assert arm_runs[0].data.tags["mlflow.parentRunId"] == search_run.info.run_id
        trials = trial_runs(search.store.client, EXPERIMENT, study.study_name)
        assert len(trials) == len(study.trials)
        for trial in study.trials:
            run = all_runs[trial.user_attrs["mlflow_run_id"]]
            assert run.data.tags["mlflow.parentRunId"] == arm_runs[0].info.run_id
            assert run.info.run_name == f"{arm}/trial-{trial.number}"


def test_trial_runs_have_params_epoch_metrics_and_their_optuna_state(search):
    client = search.store.client
    for arm in ARMS:
        for trial in search.study(arm).trials:
            run = client.get_run(trial.user_attrs["mlflow_run_id"])
            assert run.data.tags["optuna.state"] == trial.state.name
            assert run.info.status == {"COMPLETE": "FINISHED", "PRUNED": "KILLED",
                                       "FAIL": "FAILED"}[trial.state.name]
            for name, value in trial.params.items():
                assert math.isclose(float(run.data.params[f"search.{name}"]), value)
            assert float(run.data.params["lr"]) == pytest.approx(trial.params["lr"])
            history = client.get_metric_history(run.info.run_id, "train_loss")
            assert sorted(m.step for m in history) == list(range(1, len(history) + 1))
            if trial.state.name == "COMPLETE":
                assert len(history) == 3  # --quick: 3 epochs
                val = client.get_metric_history(run.info.run_id, "val_loss")
                assert min(m.value for m in val) == pytest.approx(trial.value)


def test_trials_never_log_test_metrics(search):
    trials = trial_runs(search.store.client, EXPERIMENT)
    assert trials
    for run in trials:
        assert not [k for k in run.data.metrics if k.startswith("test")], run.info.run_name


def test_tuned_table_is_written_for_every_arm(search):
    assert (search.results / "tuned.md").is_file()
    with open(search.results / "tuned.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert {r["arm"] for r in rows} == set(ARMS)


def test_search_report_lists_each_arms_importances(search):
    text = (search.results / "search.md").read_text()
    for arm in ARMS:
        row = next(line for line in text.splitlines() if line.startswith(f"| {arm} |"))
        importances = row.rstrip(" |").rsplit("|", 1)[-1]
        names = {part.split()[0] for part in importances.split(",")}
        assert "lr" in names, row
        assert row.split("|")[2].strip() == "1 (lr)", row  # the lr space: one dimension
        assert sum(int(x) for x in row.split("|")[3].split("/")) == BUDGET, row


def test_running_the_same_search_again_adds_no_trial_and_no_mlflow_run(search):
    before = {arm: [(t.number, t.state, t.params) for t in search.study(arm).trials]
              for arm in ARMS}
    runs_before = set(_by_id(search.store))
    proc = run_bench(search.args, search.cwd)
    assert proc.returncode == 0, proc.stderr[-3000:]
    for arm in ARMS:
        assert [(t.number, t.state, t.params) for t in search.study(arm).trials] == before[arm]
        assert f"{arm}: {BUDGET}/{BUDGET} trials already counted, running 0" in proc.stderr
    assert set(_by_id(search.store)) == runs_before


def test_a_quick_search_writes_its_own_folder_with_an_importance_caveat(search):
    assert search.results.parent.name == "runs"  # not the committed results' folder
    assert not (search.cwd / "results" / EXPERIMENT / DATASET / "search.md").exists()
    text = (search.results / "search.md").read_text()
    assert "Caveat: importances from a --quick search are a rough guess, not evidence" in text
