"""How trials end, and resuming with a larger budget: ``run_search`` in this process (one
worker, no subprocess) on a real journal file and a real MLflow SQLite store."""

from __future__ import annotations

import optuna
import pytest
from searchtest_util import DATASET, counted, load_study

from bench.search import run_search
from experiments import get_experiment
from experiments.search_space import Float


class PruneAfterFirstEpoch(optuna.pruners.BasePruner):
    """Prunes every trial once it has reported its first epoch: pruning made deterministic."""

    def prune(self, study, trial) -> bool:
        return trial.last_step is not None and trial.last_step >= 1


def _experiment(name: str, arm: str, **options):
    return get_experiment(name, **options).select([arm]).map_configs(
        dataset=DATASET, epochs=3, eval_every=1)


def _search(store, tmp_path, experiment, trials, **kwargs):
    storage = str(tmp_path / "optuna.journal")
    run_search(experiment, store.tracker(), trials=trials, storage_url=storage, quiet=True,
               **kwargs)
    arm = experiment.arms[0].name
    return load_study(f"{experiment.name}.{DATASET}.{arm}", storage)


def test_pruned_trials_end_killed_with_a_pruned_tag(mlflow_store, tmp_path):
    study = _search(mlflow_store, tmp_path, _experiment("ablation", "softmax-ce"), 2,
                    pruner=PruneAfterFirstEpoch())
    assert [t.state.name for t in study.trials] == ["PRUNED", "PRUNED"]
    assert len(counted(study)) == 2
    for trial in study.trials:
        run = mlflow_store.client.get_run(trial.user_attrs["mlflow_run_id"])
        assert run.info.status == "KILLED"
        assert run.data.tags["pruned"] == "true"
        assert run.data.tags["optuna.state"] == "PRUNED"
        history = mlflow_store.client.get_metric_history(run.info.run_id, "train_loss")
        assert [m.step for m in history] == [1]  # stopped right after the pruned epoch


def test_diverged_trials_fail_with_the_reason_and_the_study_goes_on(mlflow_store, tmp_path):
    experiment = _experiment("batchnorm", "plain-L3-ws0.05", depths=(3,), weight_scales=(0.05,))
    study = _search(mlflow_store, tmp_path, experiment, 3, pruner="none",
                    spaces={"plain-L3-ws0.05": {"lr": Float(1e3, 1e4, log=True)}})
    assert [t.state.name for t in study.trials] == ["FAIL", "FAIL", "FAIL"]
    assert len(counted(study)) == 3  # each failure counts; the study went on after the first
    for trial in study.trials:
        assert trial.user_attrs["bench_outcome"] == "diverged"
        assert trial.params["lr"] >= 1e3
        run = mlflow_store.client.get_run(trial.user_attrs["mlflow_run_id"])
        assert run.info.status == "FAILED"
        assert run.data.tags["optuna.state"] == "FAIL"
        assert run.data.tags["bench.error"].startswith("diverged: non-finite training loss")


def test_raising_the_budget_runs_only_the_difference(mlflow_store, tmp_path):
    experiment = _experiment("ablation", "momentum")
    first = _search(mlflow_store, tmp_path, experiment, 2)
    before = [(t.number, t.state, t.params, t.value) for t in first.trials]
    runs_before = {r.info.run_id for r in mlflow_store.client.search_runs(
        [mlflow_store.client.get_experiment_by_name("ablation").experiment_id])}
    study = _search(mlflow_store, tmp_path, experiment, 3)
    assert [(t.number, t.state, t.params, t.value) for t in study.trials][:2] == before
    assert len(study.trials) == 3 and len(counted(study)) == 3
    runs_after = mlflow_store.client.search_runs(
        [mlflow_store.client.get_experiment_by_name("ablation").experiment_id])
    new = [r for r in runs_after if r.info.run_id not in runs_before]
    assert [r.info.run_name for r in new] == ["momentum/trial-2"]
    arm_runs = [r for r in runs_after if r.data.tags.get("bench.kind") == "arm-search"]
    assert len(arm_runs) == 1  # found again, not duplicated, and still the trials' parent
    assert new[0].data.tags["mlflow.parentRunId"] == arm_runs[0].info.run_id


def test_a_changed_arm_configuration_is_refused_rather_than_mixed_in(mlflow_store, tmp_path):
    _search(mlflow_store, tmp_path, _experiment("ablation", "momentum"), 1)
    changed = _experiment("ablation", "momentum").map_configs(batch_size=32)
    with pytest.raises(ValueError, match="different configuration"):
        _search(mlflow_store, tmp_path, changed, 1)


def test_a_tracking_outage_neither_counts_the_trial_nor_loses_it(mlflow_store, tmp_path,
                                                                 monkeypatch):
    from bench import tracking
    from bench.search import run_worker
    if not hasattr(tracking, "TrackingUnavailable"):
        pytest.skip("this bench.tracking has no bounded retry (TrackingUnavailable)")
    storage = str(tmp_path / "optuna.journal")
    experiment = _experiment("ablation", "momentum")
    run_search(experiment, mlflow_store.tracker(), trials=2, storage_url=storage, jobs=0,
               quiet=True)
    name = f"ablation.{DATASET}.momentum"
    study = load_study(name, storage)
    settings = study.user_attrs["bench_settings"]
    study.set_user_attr("bench_settings", {**settings, "tracking_uri": "http://127.0.0.1:9"})
    monkeypatch.setenv("BENCH_TRACKING_RETRY_SECONDS", "0.5")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")  # fail fast: nothing listens

    with pytest.raises(tracking.TrackingUnavailable):
        run_worker(name, storage)  # stops at the first trial instead of burning the budget
    study = load_study(name, storage)
    assert counted(study) == []
    failed, retry = study.trials
    assert failed.state.name == "FAIL" and retry.state.name == "WAITING"
    assert retry.params == failed.params and retry.system_attrs["failed_trial"] == 0


def test_a_resumed_search_draws_new_values_rather_than_repeating_the_first_ones(mlflow_store,
                                                                                tmp_path):
    experiment = _experiment("ablation", "momentum")
    _search(mlflow_store, tmp_path, experiment, 2)
    study = _search(mlflow_store, tmp_path, experiment, 4)  # the same seed, resumed
    params = [tuple(sorted(t.params.items())) for t in study.trials]
    assert len(params) == 4 and len(set(params)) == 4


def test_a_trial_beyond_the_budget_neither_runs_nor_counts(mlflow_store, tmp_path):
    """Two workers racing for the last slot: trial numbers decide, the loser runs nothing."""
    from bench.search.objective import make_objective
    from bench.search.study import context_from_settings
    storage = str(tmp_path / "optuna.journal")
    run_search(_experiment("ablation", "momentum"), mlflow_store.tracker(), trials=2,
               storage_url=storage, jobs=0, quiet=True)
    study = load_study(f"ablation.{DATASET}.momentum", storage)
    others = [study.ask(), study.ask()]  # two other workers hold both slots, mid-trial
    objective = make_objective(context_from_settings(study.user_attrs["bench_settings"]),
                               mlflow_store.tracker())
    study.optimize(objective, n_trials=1, catch=(Exception,))
    assert objective.over_budget
    loser = study.trials[-1]
    assert loser.number == 2 and loser.state.name == "FAIL"
    assert loser.system_attrs["fail_reason"].startswith("over budget")
    assert "mlflow_run_id" not in loser.user_attrs and counted(study) == []
    for trial in others:  # the slot holders still may run
        study.tell(trial, 1.0)
    assert len(counted(study)) == 2
