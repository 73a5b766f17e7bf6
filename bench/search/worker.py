"""A search worker: joins a study and runs trials until the study's budget is counted.

Any number of workers (processes of ``bench search --jobs N``, or ``bench worker`` on other
machines) share one study and its budget exactly (see ``budget.claim``). A worker keeps
going while other workers finish the last trials, so that if one of them dies its trial is
failed and retried (by pid on this host; by the RDB heartbeat anywhere) and not lost.
"""

from __future__ import annotations

import os
import signal
import socket
import time

from .. import tags as T
from ..process import die_with_parent
from .budget import budget_state, counts, recover_stale_trials, retry_trial
from .objective import make_objective
from .storage import describe_storage, open_storage
from .study import SETTINGS_ATTR, context_from_settings, make_pruner, make_sampler

__all__ = ["run_worker", "load_settings", "worker_main", "sweep_orphan_runs"]

POLL_SECONDS = 0.5          # while the last trials run elsewhere
MAX_UNCOUNTED_IN_A_ROW = 3  # trials that ended without an outcome: stop rather than spin


def load_settings(study_name: str, storage_url: str | None, storage=None) -> dict:
    import optuna
    storage = storage or open_storage(storage_url)
    try:
        study = optuna.load_study(study_name=study_name, storage=storage)
    except KeyError:
        names = [s.study_name for s in optuna.get_all_study_summaries(storage)]
        raise ValueError(f"no study {study_name!r} in storage {describe_storage(storage_url)}; "
                         f"studies there: {', '.join(names) or 'none'}") from None
    if SETTINGS_ATTR not in study.user_attrs:
        raise ValueError(f"study {study_name!r} was not created by `bench search`")
    return study.user_attrs[SETTINGS_ATTR]


def sweep_orphan_runs(tracker, study) -> int:
    """End KILLED the MLflow runs of trials whose worker died: left RUNNING, or ended by an
    objective whose result Optuna never stored. Returns how many runs were ended."""
    from optuna.trial import TrialState

    from .budget import failed_with_outcome
    n = 0
    for trial in study.get_trials(deepcopy=False, states=(TrialState.FAIL,)):
        run_id = trial.user_attrs.get("mlflow_run_id")
        if not run_id or failed_with_outcome(trial):
            continue  # no run, or the objective ended it with the trial's true outcome
        run = tracker.client.get_run(run_id)
        if run.info.status != "KILLED":
            why = "worker died; the trial is retried"
            tracker.set_tags(run_id, {"optuna.state": "FAIL", T.ERROR: why,
                                      T.KILLED_REASON: why})
            tracker.end(run_id, "KILLED")
            n += 1
    return n


def run_worker(study_name: str, storage_url: str | None, n_trials: int | None = None,
               timeout: float | None = None, worker: int | str | None = None, *,
               pruner=None) -> int:
    """Run trials until the study's budget is counted (at most ``n_trials`` of them, for at
    most ``timeout`` seconds). ``pruner`` overrides the study's pruner (an Optuna pruner
    object; studies created with one need it). Returns the number of trials this worker ran.

    ``worker`` seeds this worker's sampler apart from the others': the index of a local
    worker, or by default this host and process (workers joining from anywhere)."""
    import optuna
    from optuna.trial import TrialState

    from ..executor import limit_blas_threads
    from ..tracking import Tracker

    optuna.logging.set_verbosity(optuna.logging.ERROR)  # we report failures ourselves
    storage = open_storage(storage_url)
    settings = load_settings(study_name, storage_url, storage)
    if worker is None:
        worker = f"{socket.gethostname()}/{os.getpid()}"
    study = optuna.load_study(study_name=study_name, storage=storage)
    study.sampler = make_sampler(settings, worker, history=len(study.get_trials(deepcopy=False)))
    study.pruner = pruner if pruner is not None else make_pruner(settings)
    tracker = Tracker(settings["tracking_uri"])
    objective = make_objective(context_from_settings(settings), tracker)
    budget = settings["budget"]
    deadline = None if timeout is None else time.monotonic() + timeout
    ran = uncounted = 0
    failed_seen = 0
    with limit_blas_threads(1):
        while n_trials is None or ran < n_trials:
            if deadline is not None and time.monotonic() >= deadline:
                break
            recover_stale_trials(study)
            # Optuna's own optimize() also fails stale trials (before we see them), so sweep
            # whenever the number of failed trials changed, not only after our own recovery.
            failed_now = len(study.get_trials(deepcopy=False, states=(TrialState.FAIL,)))
            if failed_now != failed_seen:
                sweep_orphan_runs(tracker, study)
                failed_seen = failed_now
            state = budget_state(study)
            if state.counted >= budget:
                break
            if state.waiting == 0 and state.counted + state.running >= budget:
                time.sleep(POLL_SECONDS)  # the last trials run elsewhere; retry any that die
                continue
            objective.last_trial_id = None
            study.optimize(objective, n_trials=1, catch=(Exception,), gc_after_trial=False)
            if objective.fatal is not None:
                retry_trial(study, storage.get_trial(objective.last_trial_id))
                raise objective.fatal
            if objective.over_budget:
                continue
            ran += 1
            # A trial normally ends counted; one that does not (its objective never reached
            # an outcome) is not retried, so a broken setup must not loop for ever.
            last = objective.last_trial_id
            done = last is not None and counts(storage.get_trial(last))
            uncounted = 0 if done else uncounted + 1
            if uncounted >= MAX_UNCOUNTED_IN_A_ROW:
                raise RuntimeError(f"{uncounted} trials in a row of {study_name!r} ended without "
                                   "an outcome; see the worker's log")
    return ran


def worker_main(study_name: str, storage_url: str | None, n_trials: int | None,
                timeout: float | None, worker: int) -> None:
    """Process entry point for local workers started by ``bench search --jobs N``."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C
    die_with_parent(os.getppid())  # the fork server, which ends with the command
    run_worker(study_name, storage_url, n_trials, timeout, worker)
