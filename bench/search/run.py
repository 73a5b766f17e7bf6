"""``bench search``: S independent studies per arm with equal budgets, then re-seed each best.

Study ``k`` of an arm (``k = 0 .. S-1``) has its own name and so its own sampler seeds (derived
from ``--seed`` and the study name), and its own budget, counted exactly however many workers
share it. Studies run one after the other, all arms of study 0 first: an interrupted search
already has complete studies to show.

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
from dataclasses import dataclass

from experiments import Arm, Experiment

from .. import store
from .. import tags as T
from ..environment import environment_tags
from ..runner import load_data
from .outcome import ArmOutcome, SearchOutcome
from .budget import counted_trials, recover_stale_trials, remaining
from .storage import describe_storage, local_file_missing, open_storage
from .progress import SearchProgress
from .study import SETTINGS_ATTR, study_settings
from .worker import run_worker, sweep_orphan_runs, worker_main

__all__ = ["run_search", "study_name_for", "search_pending", "start_worker_server"]


def study_name_for(prefix: str, experiment: str, dataset: str, arm: str, index: int = 0,
                   space: str = "full") -> str:
    """``<prefix><experiment>.<dataset>.<arm>``, then ``.lr`` for the learning-rate-only
    space and ``.study-<k+1>`` for the repeated studies after the first (so a search with more
    studies continues the studies of one with fewer)."""
    name = f"{prefix}{experiment}.{dataset}.{arm}"
    if space != "full":
        name += f".{space}"
    return name + (f".study-{index + 1}" if index else "")


@dataclass
class _Search:
    """What every arm's tuning shares within one ``run_search``."""

    experiment: Experiment
    tracker: object
    storage: object
    storage_url: str | None
    exp_id: str
    trials: int
    jobs: int
    timeout: float | None
    pruner: object
    settings: dict              # study_settings() keywords common to every arm
    spaces: dict
    grids: dict
    quiet: bool
    space: str = "full"         # experiments.search_space.SPACES, unless ``spaces`` names one
    progress: object = None
    study_name: str | None = None   # the arm in progress (for clean-up on failure)
    arm_run: str | None = None


def _reopen_or_start(tracker, experiment_id, key_tag, key, name, tags, parent=None, description=None):
    run_id = store.find_keyed_run(tracker, experiment_id, tags[T.KIND], key_tag, key)
    if run_id is None:
        return tracker.start_run(experiment_id, name, {**tags, key_tag: key}, parent, description)
    store.reopen(tracker, run_id)
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
                   study_prefix: str = "", studies: int = 1, space: str = "full") -> bool:
    """Whether any arm's study still has budget left (or does not exist yet)."""
    import optuna
    if local_file_missing(storage_url):
        return True  # no study yet; opening the storage would create its file before the checks
    storage = open_storage(storage_url, heartbeat=False)
    dataset = experiment.arms[0].config.dataset
    for arm, index in ((a, k) for k in range(studies) for a in experiment.arms):
        name = study_name_for(study_prefix, experiment.name, dataset, arm.name, index, space)
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
               quiet: bool = False, studies: int = 1,
               space: str = "full") -> tuple[str, list[SearchOutcome]]:
    """Tune every arm with ``studies`` studies of ``trials`` trials each; returns the search
    run id and one outcome per study. ``space`` names the search space of every arm
    (``experiments.search_space.SPACES``) unless ``spaces`` gives one per arm.

    ``jobs`` worker processes per arm (1: in this process; 0: none, the studies are only
    created for ``bench worker`` to run). ``pruner`` is a name or an Optuna pruner object
    (then the workers run in this process, and ``bench worker`` cannot join the study).
    """
    import optuna  # here: importing Optuna costs about a second, and `bench --help` needs none

    if not isinstance(pruner, str) and jobs > 1:
        raise ValueError("a pruner object works with jobs=1 only (workers in this process)")
    pruner_name = pruner if isinstance(pruner, str) else f"custom:{type(pruner).__name__}"
    optuna.logging.set_verbosity(optuna.logging.ERROR)  # we report failures ourselves
    if jobs > 1:
        start_worker_server()
    cfg0 = experiment.arms[0].config
    data = load_data(cfg0.dataset, data_seed, cfg0.standardize, data_dir, cfg0.dtype)
    exp_id = tracker.experiment_id(experiment_name or experiment.name)
    key = f"{study_prefix}{experiment.name}.{cfg0.dataset}" + ("" if space == "full" else f".{space}")
    search_run = _reopen_or_start(
        tracker, exp_id, T.SEARCH_KEY, key,
        f"search/{experiment.name}/{cfg0.dataset}",
        {**environment_tags(), T.KIND: "search", T.EXPERIMENT: experiment.name,
         T.DATASET: cfg0.dataset, T.STORAGE: describe_storage(storage_url), T.SPACE: space},
        description=f"Equal-budget Optuna search: {studies} x {trials} trials per arm, {sampler} sampler, "
                    f"{pruner_name} pruner. Dataset: {data.description}")
    search = _Search(
        experiment, tracker, open_storage(storage_url), storage_url, exp_id, trials, jobs,
        timeout, pruner, spaces=spaces or {}, grids=grids or {}, quiet=quiet, space=space,
        settings=dict(experiment=experiment.name, budget=trials, sampler=sampler,
                      pruner=pruner_name, seed=seed, tracking_uri=tracker.uri,
                      mlflow_experiment_id=exp_id, data_seed=data_seed, data_dir=data_dir,
                      objective=objective))
    outcomes: list[SearchOutcome] = [{} for _ in range(studies)]
    previous = _install_sigterm()
    search.progress = SearchProgress([a.name for a in experiment.arms], studies * trials,
                                     storage_url, quiet)
    try:
        for index in range(studies):
            for arm in experiment.arms:
                name = study_name_for(study_prefix, experiment.name, cfg0.dataset, arm.name,
                                      index, space)
                outcomes[index][arm.name] = _tune_arm(search, arm, name, search_run, index,
                                                      studies)
    except BaseException as exc:
        search.progress.close()
        _stop(search, search_run, "KILLED" if isinstance(exc, KeyboardInterrupt) else "FAILED")
        raise
    finally:
        _restore_sigterm(previous)
    search.progress.close()
    tracker.end(search_run, "FINISHED")
    return search_run, outcomes


def _tune_arm(search: _Search, arm: Arm, name: str, search_run: str, index: int = 0,
              studies: int = 1) -> ArmOutcome:
    """Run study ``index`` of ``arm`` to its budget and record what it found on its run."""
    tracker, trials, jobs = search.tracker, search.trials, search.jobs
    search.study_name = name
    label = f"{arm.name}/search" + (f"-{index + 1}" if studies > 1 else "")
    search.arm_run = arm_run = _reopen_or_start(
        tracker, search.exp_id, T.STUDY, name, label,
        {T.KIND: "arm-search", T.ARM: arm.name, T.DATASET: arm.config.dataset,
         T.STUDY_INDEX: str(index)},
        parent=search_run, description=arm.description)
    study = _open_study(search, arm, name, arm_run, index)
    todo = remaining(study, trials)
    if not search.quiet and not search.progress.live:
        which = f" study {index + 1}/{studies}" if studies > 1 else ""
        print(f"[search] {arm.name}{which}: {trials - todo}/{trials} trials already counted, "
              f"running {todo} with {min(jobs, todo) if jobs > 1 else jobs} worker(s)",
              file=sys.stderr, flush=True)
    started = time.perf_counter()
    search.progress.watch(arm.name, name)
    try:
        if todo:
            pruner = None if isinstance(search.pruner, str) else search.pruner
            _run_workers(study, name, search.storage_url, jobs, todo, search.timeout, tracker,
                         pruner=pruner, quiet=search.quiet)
    finally:
        search.progress.unwatch()
    seconds = time.perf_counter() - started
    result = _close_arm(search, arm, name, arm_run, seconds)
    search.study_name = search.arm_run = None
    return result


def _arm_space(search: _Search, arm: Arm) -> dict:
    from experiments.search_space import SPACES
    return search.spaces.get(arm.name) or SPACES[search.space](arm.config)


def _open_study(search: _Search, arm: Arm, name: str, arm_run: str, index: int = 0):
    """The arm's study, created or continued, with its settings stored and checked."""
    import optuna  # see run_search
    study = optuna.create_study(study_name=name, storage=search.storage, direction="minimize",
                                load_if_exists=True)
    settings = study_settings(
        **search.settings, arm=arm, study_name=name, arm_run_id=arm_run,
        space=_arm_space(search, arm), grid=search.grids.get(arm.name), study_index=index)
    old = study.user_attrs.get(SETTINGS_ATTR)
    for key, what in (("config", "configuration"), ("space", "search space")):
        if old and _canonical(old.get(key)) != _canonical(settings[key]):
            raise ValueError(f"study {name!r} exists with a different {what} for arm "
                             f"{arm.name!r}; use --study-prefix to start a new one")
    study.set_user_attr(SETTINGS_ATTR, settings)
    pairs = (search.grids.get(arm.name) or {}).get("pairs")
    if pairs and not study.get_trials(deepcopy=False):
        for lr, ws in pairs:
            study.enqueue_trial({"lr": lr, "weight_scale": ws})
    recover_stale_trials(study)
    sweep_orphan_runs(search.tracker, study)
    return study


def _close_arm(search: _Search, arm: Arm, name: str, arm_run: str, seconds: float) -> ArmOutcome:
    """Count the arm's trials, log its best, end its run."""
    import optuna  # see run_search

    from experiments.search_space import apply_values
    tracker = search.tracker
    study = optuna.load_study(study_name=name, storage=search.storage)
    recover_stale_trials(study)
    sweep_orphan_runs(tracker, study)
    counted = counted_trials(study)
    states = {s: sum(1 for t in counted if t.state.name == s) for s in ("COMPLETE", "PRUNED", "FAIL")}
    try:
        best = study.best_trial
    except ValueError:
        best = None  # no completed trial
    best_config = None
    if best is not None:
        best_config = apply_values(arm.config, dict(best.params))
        tracker.log_metrics(arm_run, [("best_val_loss", best.value, 0)])
        tracker.log_params(arm_run, {f"best.{k}": v for k, v in best.params.items()})
    tracker.set_tags(arm_run, {T.TRIALS_COUNTED: str(len(counted)),
                               **{f"{T.TRIALS}{k.lower()}": str(v) for k, v in states.items()}})
    tracker.end(arm_run, "FINISHED")
    # The trials' own durations, summed: what the budget cost, however many invocations ran
    # it (this invocation's wall time is 0 when it found the study done).
    spent = sum((t.datetime_complete - t.datetime_start).total_seconds() for t in counted
                if t.datetime_start is not None and t.datetime_complete is not None)
    return ArmOutcome(arm, name, arm_run, best, best_config, len(counted), states,
                      spent or seconds)


def _stop(search: _Search, search_run: str, status: str) -> None:
    """After a failure or an interrupt: end the open runs with ``status``."""
    import optuna  # see run_search
    if search.study_name is not None:
        try:  # the trials of stopped workers are retried by the next run; end their runs now
            study = optuna.load_study(study_name=search.study_name, storage=search.storage)
            recover_stale_trials(study)
            sweep_orphan_runs(search.tracker, study)
        except Exception:  # noqa: BLE001 - report the original error
            pass
    for run_id in (search.arm_run, search_run):
        if run_id is not None:
            search.tracker.end(run_id, status)


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
