"""``bench search``: one study per arm with equal budgets, then re-seed each arm's best.

Re-running the same command continues the same studies: finished trials are kept and not
re-run, trials of dead workers are retried, the budget is counted across restarts, and the
MLflow runs of the search and of each arm are found again by key rather than duplicated.
"""

from __future__ import annotations

import multiprocessing
import sys
import time

from experiments import Arm, Experiment

from ..environment import environment_tags
from ..runner import load_data
from .budget import counted_trials, recover_stale_trials, remaining
from .storage import describe_storage, open_storage
from .study import SETTINGS_ATTR, study_settings
from .worker import run_worker, worker_main

__all__ = ["run_search", "study_name_for", "SearchOutcome"]


def study_name_for(prefix: str, experiment: str, dataset: str, arm: str) -> str:
    return f"{prefix}{experiment}.{dataset}.{arm}"


class SearchOutcome(dict):
    """Per arm: study name, best config, trials counted, seconds spent."""


def _find_run(tracker, experiment_id: str, key_tag: str, key: str) -> str | None:
    runs = tracker.client.search_runs([experiment_id], f"tags.`{key_tag}` = '{key}'",
                                      order_by=["attributes.start_time DESC"], max_results=1)
    return runs[0].info.run_id if runs else None


def _reopen_or_start(tracker, experiment_id, key_tag, key, name, tags, parent=None, description=None):
    run_id = _find_run(tracker, experiment_id, key_tag, key)
    if run_id is None:
        return tracker.start_run(experiment_id, name, {**tags, key_tag: key}, parent, description)
    tracker.client.update_run(run_id, status="RUNNING")
    return run_id


def sweep_orphan_runs(tracker, study) -> int:
    """Mark KILLED the MLflow runs of trials that can no longer finish (their worker died)."""
    from optuna.trial import TrialState
    n = 0
    for trial in study.get_trials(deepcopy=False, states=(TrialState.FAIL,)):
        run_id = trial.user_attrs.get("mlflow_run_id")
        if not run_id:
            continue
        run = tracker.client.get_run(run_id)
        if run.info.status == "RUNNING":
            tracker.set_tags(run_id, {"optuna.state": "FAIL", "bench.error": "worker died; retried"})
            tracker.end(run_id, "KILLED")
            n += 1
    return n


def _run_workers(study_name: str, storage_url: str | None, todo: int, jobs: int,
                 timeout: float | None) -> None:
    if todo <= 0:
        return
    if jobs <= 1:
        run_worker(study_name, storage_url, todo, timeout, worker=0)
        return
    # Fresh interpreters: forking a process that holds database connections is unsafe.
    ctx = multiprocessing.get_context("spawn")
    shares = [todo // jobs + (1 if i < todo % jobs else 0) for i in range(min(jobs, todo))]
    procs = [ctx.Process(target=worker_main, args=(study_name, storage_url, share, timeout, i),
                         name=f"bench-worker-{i}") for i, share in enumerate(shares)]
    for p in procs:
        p.start()
    try:
        for p in procs:
            p.join()
    except KeyboardInterrupt:
        for p in procs:
            p.terminate()
        for p in procs:
            p.join(5)
        raise


def run_search(experiment: Experiment, tracker, *, trials: int, storage_url: str | None = None,
               jobs: int = 1, timeout: float | None = None, sampler: str = "tpe",
               pruner: str = "median", seed: int = 0, study_prefix: str = "",
               experiment_name: str | None = None, data_seed: int = 0, data_dir: str | None = None,
               spaces: dict | None = None, grids: dict | None = None, objective: str = "val_loss",
               quiet: bool = False) -> tuple[str, SearchOutcome]:
    """Tune every arm with ``trials`` trials; returns the search run id and the outcome."""
    import optuna
    from experiments.search_space import apply_values

    optuna.logging.set_verbosity(optuna.logging.ERROR)  # we report failures ourselves
    cfg0 = experiment.arms[0].config
    data = load_data(cfg0.dataset, data_seed, cfg0.standardize, data_dir, cfg0.dtype)
    storage = open_storage(storage_url)
    exp_id = tracker.experiment_id(experiment_name or experiment.name)
    search_key = f"{study_prefix}{experiment.name}.{cfg0.dataset}"
    env = environment_tags()
    search_run = _reopen_or_start(
        tracker, exp_id, "bench.search_key", search_key, f"search/{experiment.name}/{cfg0.dataset}",
        {**env, "bench.kind": "search", "bench.experiment": experiment.name,
         "bench.dataset": cfg0.dataset, "bench.storage": describe_storage(storage_url)},
        description=f"Equal-budget Optuna search: {trials} trials per arm, {sampler} sampler, "
                    f"{pruner} pruner. Dataset: {data.description}")
    outcome = SearchOutcome()
    for arm in experiment.arms:
        name = study_name_for(study_prefix, experiment.name, cfg0.dataset, arm.name)
        arm_run = _reopen_or_start(
            tracker, exp_id, "bench.study", name, f"{arm.name}/search",
            {"bench.kind": "arm-search", "bench.arm": arm.name, "bench.dataset": cfg0.dataset},
            parent=search_run, description=arm.description)
        study = optuna.create_study(study_name=name, storage=storage, direction="minimize",
                                    load_if_exists=True)
        settings = study_settings(
            experiment=experiment.name, arm=arm, study_name=name, budget=trials, sampler=sampler,
            pruner=pruner, seed=seed, tracking_uri=tracker.uri, mlflow_experiment_id=exp_id,
            arm_run_id=arm_run, data_seed=data_seed, data_dir=data_dir,
            space=(spaces or {}).get(arm.name), grid=(grids or {}).get(arm.name),
            objective=objective)
        old = study.user_attrs.get(SETTINGS_ATTR)
        if old and old["config"] != settings["config"]:
            raise ValueError(f"study {name!r} exists with a different configuration for arm "
                             f"{arm.name!r}; use --study-prefix to start a new one")
        study.set_user_attr(SETTINGS_ATTR, settings)
        pairs = ((grids or {}).get(arm.name) or {}).get("pairs")
        if pairs and not study.get_trials(deepcopy=False):
            for lr, ws in pairs:
                study.enqueue_trial({"lr": lr, "weight_scale": ws})
        recover_stale_trials(study)
        sweep_orphan_runs(tracker, study)
        todo = remaining(study, trials)
        if not quiet:
            done = trials - todo
            print(f"[search] {arm.name}: {done}/{trials} trials already counted, running {todo} "
                  f"with {min(jobs, max(todo, 1))} worker(s)", file=sys.stderr, flush=True)
        started = time.perf_counter()
        _run_workers(name, storage_url, todo, jobs, timeout)
        seconds = time.perf_counter() - started
        study = optuna.load_study(study_name=name, storage=storage)
        sweep_orphan_runs(tracker, study)
        counted = counted_trials(study)
        states = {s: sum(1 for t in counted if t.state.name == s) for s in ("COMPLETE", "PRUNED", "FAIL")}
        best = None
        try:
            best = study.best_trial
        except ValueError:
            pass  # no completed trial
        best_config = None
        if best is not None:
            space_values = {k: v for k, v in best.params.items()}
            best_config = apply_values(arm.config, space_values)
            tracker.log_metrics(arm_run, [("best_val_loss", best.value, 0)])
            tracker.log_params(arm_run, {f"best.{k}": v for k, v in best.params.items()})
        tracker.set_tags(arm_run, {"bench.trials_counted": str(len(counted)),
                                   **{f"bench.trials_{k.lower()}": str(v) for k, v in states.items()}})
        tracker.end(arm_run, "FINISHED")
        outcome[arm.name] = {"study": name, "best_trial": best, "best_config": best_config,
                             "counted": len(counted), "states": states, "seconds": seconds,
                             "arm_run": arm_run, "arm": arm}
    tracker.end(search_run, "FINISHED")
    return search_run, outcome


def tuned_experiment(experiment: Experiment, outcome: SearchOutcome) -> Experiment:
    """The experiment with each arm's best configuration (arms with no completed trial dropped)."""
    arms = [Arm(a.name, outcome[a.name]["best_config"], f"{a.description} (tuned)", a.compare_to,
                a.reference)
            for a in experiment.arms if outcome.get(a.name, {}).get("best_config") is not None]
    if not arms:
        raise ValueError("no arm has a completed trial to re-seed")
    names = {a.name for a in arms}
    arms = [a if a.compare_to in names or a.compare_to is None
            else Arm(a.name, a.config, a.description, None, a.reference) for a in arms]
    baseline = experiment.baseline if experiment.baseline in names else arms[0].name
    return Experiment(f"{experiment.name}", experiment.description + " Tuned per arm.",
                      tuple(arms), baseline, experiment.reference_note)
