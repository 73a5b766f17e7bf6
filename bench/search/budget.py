"""The trial budget of a study, counted across restarts and workers, and stale-trial recovery.

A trial counts against the budget once it has an outcome: COMPLETE, PRUNED, or FAIL that our
objective recorded (divergence or an error in the run). A trial that failed because its
worker died does not count: it is retried with the same parameters.

Several workers share a budget exactly: a trial may run only if, among the trials numbered
up to it, no more than ``budget`` are counted, running or queued (``claim``). Trial numbers
are handed out atomically by every Optuna storage, so two workers can never both take the
last slot; the loser's trial ends FAIL with ``fail_reason`` "over budget" and does not count.
"""

from __future__ import annotations

import os
import socket
import warnings
from dataclasses import dataclass

from ..process import is_alive, start_ticks

__all__ = ["OUTCOME_ATTR", "counts", "counted_trials", "remaining", "recover_stale_trials",
           "worker_identity", "budget_state", "claim", "retry_trial", "is_retry_of",
           "RetryDeadTrial"]

OUTCOME_ATTR = "bench_outcome"   # set by the objective on every trial it finishes
FAILED_OUTCOMES = ("diverged", "error")  # outcomes of FAIL trials that count
IDENTITY_ATTRS = ("host", "pid", "pid_started", "pid_trial")
FAIL_REASON = "fail_reason"      # system attr on trials that failed without an outcome
MAX_RETRIES = 3                  # a trial whose workers keep dying is given up after this


def worker_identity(trial_number: int | None = None) -> dict:
    """What recovery needs to tell whether the worker running a trial is still alive."""
    ident = {"host": socket.gethostname(), "pid": os.getpid(),
             "pid_started": start_ticks(os.getpid())}
    if trial_number is not None:
        ident["pid_trial"] = trial_number  # the identity belongs to this trial, not a retry's
    return ident


def failed_with_outcome(trial) -> bool:
    """A FAIL trial whose run ended in a failure of its own (divergence, an error)."""
    return trial.user_attrs.get(OUTCOME_ATTR) in FAILED_OUTCOMES


def counts(trial) -> bool:
    """Whether ``trial`` counts against the budget.

    A FAIL trial counts only with a failed outcome: one whose worker died, even after its
    objective recorded "complete" but before Optuna stored the value, is retried instead.
    """
    from optuna.trial import TrialState
    if trial.state in (TrialState.COMPLETE, TrialState.PRUNED):
        return True
    return trial.state == TrialState.FAIL and failed_with_outcome(trial)


def counted_trials(study) -> list:
    return [t for t in study.get_trials(deepcopy=False) if counts(t)]


def remaining(study, budget: int) -> int:
    return max(0, budget - len(counted_trials(study)))


@dataclass(frozen=True)
class BudgetState:
    counted: int
    running: int
    waiting: int


def budget_state(study) -> BudgetState:
    from optuna.trial import TrialState
    trials = study.get_trials(deepcopy=False)
    return BudgetState(sum(1 for t in trials if counts(t)),
                       sum(1 for t in trials if t.state == TrialState.RUNNING),
                       sum(1 for t in trials if t.state == TrialState.WAITING))


def claim(study, trial_number: int, budget: int) -> bool:
    """Whether trial ``trial_number`` is within the budget (see the module docstring)."""
    from optuna.trial import TrialState
    live = (TrialState.RUNNING, TrialState.WAITING)
    taken = sum(1 for t in study.get_trials(deepcopy=False)
                if t.number <= trial_number and (t.state in live or counts(t)))
    return taken <= budget


def is_retry_of(trial) -> int | None:
    """The number of the trial whose worker died and that ``trial`` re-runs, if any."""
    return trial.system_attrs.get("failed_trial")


def retry_trial(study, failed) -> bool:
    """Queue a re-run of ``failed`` (a trial whose worker died) with the same parameters.

    Like Optuna's ``RetryFailedTrialCallback``, but the dead worker's identity and MLflow run
    are not copied to the retry. Returns False once the trial was retried ``MAX_RETRIES`` times.
    """
    import optuna
    if failed_with_outcome(failed):
        return False  # it failed by itself, its outcome counts: nothing to retry
    system_attrs = {"failed_trial": failed.number, "retry_history": [],
                    **{k: v for k, v in failed.system_attrs.items() if k != FAIL_REASON}}
    system_attrs["retry_history"] = [*system_attrs["retry_history"], failed.number]
    if len(system_attrs["retry_history"]) > MAX_RETRIES:
        return False
    user_attrs = {k: v for k, v in failed.user_attrs.items()
                  if k not in IDENTITY_ATTRS and k != "mlflow_run_id"}
    study.add_trial(optuna.create_trial(
        state=optuna.trial.TrialState.WAITING, params=failed.params,
        distributions=failed.distributions, user_attrs={**user_attrs, "retry_of": failed.number},
        system_attrs=system_attrs))
    return True


class RetryDeadTrial:
    """``heartbeat_stale_trial_callback`` for RDB storages: retry a trial the heartbeat failed."""

    def __call__(self, study, trial) -> None:
        retry_trial(study, trial)


def recover_stale_trials(study, on_stale=lambda trial: None) -> list[int]:
    """Fail RUNNING trials whose worker is gone and queue a retry of each; returns their numbers.

    RDB storages do this through their heartbeat (any host): a trial silent for the grace
    period is failed and ``RetryDeadTrial`` queues its retry. The journal file has no
    heartbeat, so workers record their host and pid, and a trial whose worker on this host
    no longer runs is failed here. Journal trials of other hosts are left alone.
    """
    import optuna
    from optuna.storages import fail_stale_trials
    from optuna.storages._heartbeat import is_heartbeat_enabled
    from optuna.trial import TrialState
    storage = study._storage
    running = study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
    if not running:
        return []
    if is_heartbeat_enabled(storage):
        with warnings.catch_warnings():  # "experimental" since Optuna 2.9
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            fail_stale_trials(study)  # marks them failed and calls RetryDeadTrial
        now = [storage.get_trial(t._trial_id) for t in running]
        stale = [t for t in now if t.state == TrialState.FAIL and not failed_with_outcome(t)]
        for trial in stale:
            on_stale(trial)
        return [t.number for t in stale]
    me = socket.gethostname()
    stale = []
    for trial in running:
        attrs = trial.user_attrs
        host, pid = attrs.get("host"), attrs.get("pid")
        # A retry inherits nothing, but trials of older versions lack "pid_trial".
        owner = attrs.get("pid_trial", trial.number if is_retry_of(trial) is None else None)
        if host != me or pid is None or owner != trial.number:
            continue
        if is_alive(int(pid), attrs.get("pid_started")):
            continue
        try:
            storage.set_trial_system_attr(trial._trial_id, FAIL_REASON, "worker died")
            if not storage.set_trial_state_values(trial._trial_id, TrialState.FAIL):
                continue
        except optuna.exceptions.UpdateFinishedTrialError:
            continue  # another worker recovered it first, or it just finished
        retry_trial(study, storage.get_trial(trial._trial_id))
        on_stale(trial)
        stale.append(trial.number)
    return stale
