"""A search worker: joins a study and runs trials until its share or the budget is spent."""

from __future__ import annotations

import signal
import time

from .budget import counted_trials, recover_stale_trials
from .objective import make_objective
from .storage import open_storage
from .study import SETTINGS_ATTR, context_from_settings, make_pruner, make_sampler

__all__ = ["run_worker", "load_settings"]


def load_settings(study_name: str, storage_url: str | None) -> dict:
    import optuna
    storage = open_storage(storage_url)
    try:
        study = optuna.load_study(study_name=study_name, storage=storage)
    except KeyError:
        names = [s.study_name for s in optuna.get_all_study_summaries(storage)]
        raise ValueError(f"no study {study_name!r} in storage {storage_url or 'optuna.journal'}; "
                         f"studies there: {', '.join(names) or 'none'}") from None
    if SETTINGS_ATTR not in study.user_attrs:
        raise ValueError(f"study {study_name!r} was not created by `bench search`")
    return study.user_attrs[SETTINGS_ATTR]


def run_worker(study_name: str, storage_url: str | None, n_trials: int | None = None,
               timeout: float | None = None, worker: int = 0) -> int:
    """Run trials; ``n_trials`` None means: until the study's budget is counted in full.
    Returns the number of trials this worker ran."""
    import optuna

    from ..executor import limit_blas_threads
    from ..tracking import Tracker

    optuna.logging.set_verbosity(optuna.logging.ERROR)  # we report failures ourselves
    settings = load_settings(study_name, storage_url)
    study = optuna.load_study(study_name=study_name, storage=open_storage(storage_url),
                              sampler=make_sampler(settings, worker),
                              pruner=make_pruner(settings))
    tracker = Tracker(settings["tracking_uri"])
    objective = make_objective(context_from_settings(settings), tracker)
    budget = settings["budget"]
    deadline = None if timeout is None else time.monotonic() + timeout
    ran = 0
    with limit_blas_threads(1):
        while n_trials is None or ran < n_trials:
            if deadline is not None and time.monotonic() >= deadline:
                break
            if n_trials is None:
                recover_stale_trials(study)
                busy = len(study.get_trials(deepcopy=False,
                                            states=(optuna.trial.TrialState.RUNNING,)))
                if len(counted_trials(study)) + busy >= budget:
                    break
            study.optimize(objective, n_trials=1, catch=(Exception,), gc_after_trial=False)
            ran += 1
    return ran


def worker_main(study_name: str, storage_url: str | None, n_trials: int | None,
                timeout: float | None, worker: int) -> None:
    """Process entry point for local workers started by ``bench search --jobs N``."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C
    run_worker(study_name, storage_url, n_trials, timeout, worker)
