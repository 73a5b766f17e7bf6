"""The trial budget of a study, counted across restarts and workers, and stale-trial recovery.

A trial counts against the budget once it has an outcome: COMPLETE, PRUNED, or FAIL that our
objective recorded (divergence or an error in the run). A trial that failed because its
worker died does not count: it is retried with the same parameters.
"""

from __future__ import annotations

import os
import socket

__all__ = ["OUTCOME_ATTR", "counted_trials", "remaining", "recover_stale_trials", "worker_identity"]

OUTCOME_ATTR = "bench_outcome"   # set by the objective on every trial it finishes


def worker_identity() -> dict:
    return {"host": socket.gethostname(), "pid": os.getpid()}


def _counts(trial) -> bool:
    from optuna.trial import TrialState
    if trial.state in (TrialState.COMPLETE, TrialState.PRUNED):
        return True
    return trial.state == TrialState.FAIL and OUTCOME_ATTR in trial.user_attrs


def counted_trials(study) -> list:
    return [t for t in study.get_trials(deepcopy=False) if _counts(t)]


def remaining(study, budget: int) -> int:
    return max(0, budget - len(counted_trials(study)))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def recover_stale_trials(study, on_stale=lambda trial: None) -> list[int]:
    """Fail RUNNING trials whose worker process on this host is gone, and enqueue a retry.

    RDB storages do this themselves through their heartbeat; the journal file has no
    heartbeat, so workers record their host and pid and a restart checks them. Trials of
    workers on other hosts are left alone.
    """
    from optuna.trial import TrialState
    from optuna.storages import fail_stale_trials
    from optuna.storages._heartbeat import is_heartbeat_enabled
    if is_heartbeat_enabled(study._storage):
        fail_stale_trials(study)  # heartbeat storages: marks failed and calls the retry callback
        return []
    me = socket.gethostname()
    stale = []
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        host, pid = trial.user_attrs.get("host"), trial.user_attrs.get("pid")
        if host != me or pid is None or _alive(int(pid)):
            continue
        if study._storage.set_trial_state_values(trial._trial_id, TrialState.FAIL):
            study._storage.set_trial_system_attr(trial._trial_id, "fail_reason", "worker died")
            study.enqueue_trial(trial.params, user_attrs={"retry_of": trial.number})
            on_stale(trial)
            stale.append(trial.number)
    return stale
