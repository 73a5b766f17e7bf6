"""``bench search``: one study per arm with equal budgets, then re-seed each arm's best.

Re-running the same command continues the same studies: finished trials are kept and not
re-run, trials of dead workers are retried, the budget is counted across restarts, and the
MLflow runs of the search and of each arm are found again by key rather than duplicated.
"""

from __future__ import annotations

import json
import multiprocessing
import signal
import sys
import time

from experiments import Arm, Experiment

from ..environment import environment_tags
from ..runner import load_data
from .budget import counted_trials, recover_stale_trials, remaining
from .storage import describe_storage, open_storage
from .study import SETTINGS_ATTR, study_settings
from .worker import run_worker, sweep_orphan_runs, worker_main

__all__ = ["run_search", "study_name_for", "SearchOutcome"]


def study_name_for(prefix: str, experiment: str, dataset: str, arm: str) -> str:
    return f"{prefix}{experiment}.{dataset}.{arm}"


class SearchOutcome(dict):
    """Per arm: study name, best config, trials counted, seconds spent."""


def _find_run(tracker, experiment_id: str, kind: str, key_tag: str, key: str) -> str | None:
    runs = tracker.client.search_runs(
        [experiment_id], f"tags.`{key_tag}` = '{key}' and tags.`bench.kind` = '{kind}'",
        order_by=["attributes.start_time DESC"], max_results=1)
    return runs[0].info.run_id if runs else None


def _reopen_or_start(tracker, experiment_id, key_tag, key, name, tags, parent=None, description=None):
    run_id = _find_run(tracker, experiment_id, tags["bench.kind"], key_tag, key)
    if run_id is None:
        return tracker.start_run(experiment_id, name, {**tags, key_tag: key}, parent, description)
    tracker.client.update_run(run_id, status="RUNNING")
    return run_id


# Local workers start from a fork server that has imported these once: a spawned interpreter
# would import MLflow again for every worker of every arm (seconds each).
_PRELOAD = ["bench.search.worker", "bench.runner", "bench.tracking", "bench.datasets",
            "mlflow.tracking", "mlflow.store.tracking.sqlalchemy_store", "optuna"]


def _worker_context():
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(_PRELOAD)
    return ctx


def search_pending(experiment: Experiment, trials: int, storage_url: str | None,
                   study_prefix: str = "") -> bool:
    """Whether any arm's study still has budget left (or does not exist yet)."""
    import optuna
    storage = open_storage(storage_url, heartbeat=False)
    dataset = experiment.arms[0].config.dataset
    for arm in experiment.arms:
        name = study_name_for(study_prefix, experiment.name, dataset, arm.name)
        try:
            study = optuna.load_study(study_name=name, storage=storage)
        except KeyError:
            return True
        if remaining(study, trials):
            return True
    return False


def start_worker_server() -> None:
    """Start the fork server now, so its imports overlap with this process's set-up."""
    from multiprocessing import forkserver
    _worker_context()
    forkserver.ensure_running()


def _run_workers(study, study_name: str, storage_url: str | None, jobs: int, todo: int,
                 timeout: float | None, tracker, pruner=None, quiet: bool = False) -> None:
    """Run ``study`` to its budget (``todo`` trials left) with ``jobs`` workers (0: none,
    1: in this process, more: processes, never more than there are trials left)."""
    if jobs <= 0:
        return
    if jobs == 1:
        run_worker(study_name, storage_url, None, timeout, worker=0, pruner=pruner)
        return
    # Fresh processes (not forks of this one: it holds database connections). Every worker
    # runs until the budget is counted, so the others retry the trial of one that dies.
    ctx = _worker_context()
    deadline = None if timeout is None else time.monotonic() + timeout
    for _ in range(3):
        left = None if deadline is None else max(0.0, deadline - time.monotonic())
        procs = [ctx.Process(target=worker_main, args=(study_name, storage_url, None, left, i),
                             name=f"bench-worker-{i}") for i in range(min(jobs, todo))]
        for p in procs:
            p.start()
        try:
            for p in procs:
                p.join()
        except BaseException:  # Ctrl-C, SIGTERM: stop the workers; their trials are retried
            for p in procs:
                p.terminate()
            for p in procs:
                p.join(10)
            raise
        failed = [p for p in procs if p.exitcode and p.exitcode > 0]
        if failed:
            raise RuntimeError(f"{len(failed)} search worker(s) of {study_name!r} failed "
                               f"(exit code {failed[0].exitcode}); see the error above")
        killed = [p for p in procs if p.exitcode and p.exitcode < 0]
        if not killed:
            return
        # A worker was killed and the others did not spend the budget: recover, go again.
        if recover_stale_trials(study):
            sweep_orphan_runs(tracker, study)
        if remaining(study, study.user_attrs[SETTINGS_ATTR]["budget"]) == 0:
            return
        if deadline is not None and time.monotonic() >= deadline:
            return
        if not quiet:
            print(f"[search] {len(killed)} worker(s) of {study_name} were killed; starting "
                  "new workers for the rest of the budget", file=sys.stderr, flush=True)


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt


def run_search(experiment: Experiment, tracker, *, trials: int, storage_url: str | None = None,
               jobs: int = 1, timeout: float | None = None, sampler: str = "tpe",
               pruner="median", seed: int = 0, study_prefix: str = "",
               experiment_name: str | None = None, data_seed: int = 0, data_dir: str | None = None,
               spaces: dict | None = None, grids: dict | None = None, objective: str = "val_loss",
               quiet: bool = False) -> tuple[str, SearchOutcome]:
    """Tune every arm with ``trials`` trials; returns the search run id and the outcome.

    ``jobs`` worker processes per arm (1: in this process; 0: none, the studies are only
    created for ``bench worker`` to run). ``pruner`` is a name or an Optuna pruner object
    (then the workers run in this process, and ``bench worker`` cannot join the study).
    """
    import optuna

    from experiments.search_space import apply_values

    if not isinstance(pruner, str) and jobs > 1:
        raise ValueError("a pruner object works with jobs=1 only (workers in this process)")
    pruner_name = pruner if isinstance(pruner, str) else f"custom:{type(pruner).__name__}"
    optuna.logging.set_verbosity(optuna.logging.ERROR)  # we report failures ourselves
    if jobs > 1:
        start_worker_server()
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
                    f"{pruner_name} pruner. Dataset: {data.description}")
    outcome = SearchOutcome()
    arm_run = name = None
    previous = _install_sigterm()
    try:
        for arm in experiment.arms:
            name = study_name_for(study_prefix, experiment.name, cfg0.dataset, arm.name)
            arm_run = _reopen_or_start(
                tracker, exp_id, "bench.study", name, f"{arm.name}/search",
                {"bench.kind": "arm-search", "bench.arm": arm.name, "bench.dataset": cfg0.dataset},
                parent=search_run, description=arm.description)
            study = optuna.create_study(study_name=name, storage=storage, direction="minimize",
                                        load_if_exists=True)
            settings = study_settings(
                experiment=experiment.name, arm=arm, study_name=name, budget=trials,
                sampler=sampler, pruner=pruner_name, seed=seed, tracking_uri=tracker.uri,
                mlflow_experiment_id=exp_id, arm_run_id=arm_run, data_seed=data_seed,
                data_dir=data_dir, space=(spaces or {}).get(arm.name),
                grid=(grids or {}).get(arm.name), objective=objective)
            old = study.user_attrs.get(SETTINGS_ATTR)
            if old and _canonical(old["config"]) != _canonical(settings["config"]):
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
                print(f"[search] {arm.name}: {trials - todo}/{trials} trials already counted, "
                      f"running {todo} with {min(jobs, todo) if jobs > 1 else jobs} worker(s)",
                      file=sys.stderr, flush=True)
            started = time.perf_counter()
            if todo:
                _run_workers(study, name, storage_url, jobs, todo, timeout, tracker,
                             pruner=None if isinstance(pruner, str) else pruner, quiet=quiet)
            seconds = time.perf_counter() - started
            study = optuna.load_study(study_name=name, storage=storage)
            recover_stale_trials(study)
            sweep_orphan_runs(tracker, study)
            counted = counted_trials(study)
            states = {s: sum(1 for t in counted if t.state.name == s)
                      for s in ("COMPLETE", "PRUNED", "FAIL")}
            best = None
            try:
                best = study.best_trial
            except ValueError:
                pass  # no completed trial
            best_config = None
            if best is not None:
                best_config = apply_values(arm.config, dict(best.params))
                tracker.log_metrics(arm_run, [("best_val_loss", best.value, 0)])
                tracker.log_params(arm_run, {f"best.{k}": v for k, v in best.params.items()})
            tracker.set_tags(arm_run, {"bench.trials_counted": str(len(counted)),
                                       **{f"bench.trials_{k.lower()}": str(v)
                                          for k, v in states.items()}})
            tracker.end(arm_run, "FINISHED")
            outcome[arm.name] = {"study": name, "best_trial": best, "best_config": best_config,
                                 "counted": len(counted), "states": states, "seconds": seconds,
                                 "arm_run": arm_run, "arm": arm}
            arm_run = name = None
    except BaseException as exc:
        status = "KILLED" if isinstance(exc, KeyboardInterrupt) else "FAILED"
        if name is not None:
            try:  # the trials of stopped workers are retried by the next run; end their runs now
                study = optuna.load_study(study_name=name, storage=storage)
                recover_stale_trials(study)
                sweep_orphan_runs(tracker, study)
            except Exception:  # noqa: BLE001 - report the original error
                pass
        for run_id in (arm_run, search_run):
            if run_id is not None:
                tracker.end(run_id, status)
        raise
    finally:
        _restore_sigterm(previous)
    tracker.end(search_run, "FINISHED")
    return search_run, outcome


def _canonical(obj) -> str:
    return json.dumps(obj, sort_keys=True, default=str)


def _install_sigterm():
    try:
        return signal.signal(signal.SIGTERM, _raise_interrupt)
    except ValueError:  # not the main thread
        return None


def _restore_sigterm(previous) -> None:
    if previous is not None:
        signal.signal(signal.SIGTERM, previous)


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
