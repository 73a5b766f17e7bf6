"""The shared run queue: one Optuna study on an RDB storage (PostgreSQL across machines).

Each (arm, seed) run of an invocation is a fixed-parameter trial put WAITING on the study;
a worker takes one by moving it WAITING -> RUNNING, which the RDB storage does under a row
lock (``set_trial_state_values`` refuses a trial that is no longer WAITING), so two workers
never take the same trial. A taken trial sends heartbeats; one silent for the grace period
(its worker was SIGKILLed, its machine lost) is failed by whichever worker looks next
(``optuna.storages.fail_stale_trials``) and a copy of it is queued again, at most
``MAX_ATTEMPTS`` times. What a run *produced* is kept in MLflow, not here: the queue hands out
leases, MLflow is the ledger (see ``bench.queue.worker`` for how the two agree).

With adaptive seeds a ``round`` trial follows each round's runs: it is taken only when no
other trial is waiting or running, so exactly one worker plans the next round.
"""

from __future__ import annotations

import os
import socket
import threading
import warnings
from dataclasses import dataclass

__all__ = ["QUEUE_ATTR", "PREFIX", "MAX_ATTEMPTS", "Item", "RunQueue", "queue_name",
           "list_queues", "open_queue_storage", "has_work"]

QUEUE_ATTR = "bench_run_queue"   # the study attribute holding the invocation's settings
PREFIX = "bench-run."
MAX_ATTEMPTS = 3                 # a run whose workers keep dying is given up after this


def queue_name(parent_run_id: str) -> str:
    """One queue per invocation (parent run): a resumed invocation continues its queue."""
    return f"{PREFIX}{parent_run_id}"


@dataclass(frozen=True)
class Item:
    trial_id: int
    number: int
    attrs: dict          # kind ("run" or "round"), arm, seed, key, round, attempt

    @property
    def kind(self) -> str:
        return self.attrs["kind"]


ITEM_ATTRS = ("kind", "arm", "seed", "key", "round", "attempt")  # what a copy of an item keeps


def _item_attrs(attrs: dict) -> dict:
    """An item's own fields, without what an attempt at it recorded (worker, run, outcome)."""
    return {k: v for k, v in attrs.items() if k in ITEM_ATTRS}


def _requeue_dead(study, trial) -> None:
    """The heartbeat's callback: a trial whose worker went silent is queued again."""
    attempt = int(trial.user_attrs.get("attempt", 1))
    if attempt >= MAX_ATTEMPTS:
        return  # counted lost by the coordinator: the same command runs it later
    _add(study, {**_item_attrs(trial.user_attrs), "attempt": attempt + 1,
                 "retry_of": trial.number})


def open_queue_storage(url: str):
    """The RDB storage at ``url`` with the heartbeat that retries a dead worker's run."""
    import optuna

    from ..search.storage import open_storage
    optuna.logging.set_verbosity(optuna.logging.WARNING)  # no line per queue created
    return open_storage(url, stale_callback=_requeue_dead)


def _add(study, attrs: dict) -> None:
    import optuna
    study.add_trial(optuna.create_trial(state=optuna.trial.TrialState.WAITING,
                                        user_attrs=attrs))


def has_work(storage, study_id: int) -> bool:
    from optuna.trial import TrialState
    return bool(storage.get_all_trials(study_id, deepcopy=False,
                                       states=(TrialState.WAITING, TrialState.RUNNING)))


def list_queues(storage) -> list[tuple[str, int]]:
    """``(name, study id)`` of every run queue in ``storage``, oldest first."""
    out = []
    for study in storage.get_all_studies():
        if study.study_name.startswith(PREFIX) and QUEUE_ATTR in study.user_attrs:
            out.append((study.study_name, study._study_id))
    return sorted(out, key=lambda s: s[1])


class RunQueue:
    def __init__(self, storage, name: str):
        import optuna
        self.storage, self.name = storage, name
        self.study = optuna.load_study(study_name=name, storage=storage)
        self.study_id = self.study._study_id

    @classmethod
    def create(cls, storage, name: str) -> "RunQueue":
        import optuna
        optuna.create_study(study_name=name, storage=storage, load_if_exists=True)
        return cls(storage, name)

    # -- settings and items -------------------------------------------------------------------
    @property
    def settings(self) -> dict | None:
        return self.storage.get_study_user_attrs(self.study_id).get(QUEUE_ATTR)

    def publish(self, settings: dict) -> None:
        """Make the queue visible to ``bench worker`` (after its first items are queued)."""
        self.storage.set_study_user_attr(self.study_id, QUEUE_ATTR, settings)

    def trials(self, states=None) -> list:
        return self.storage.get_all_trials(self.study_id, deepcopy=False, states=states)

    def live_keys(self) -> set[str]:
        """Run keys waiting or running now."""
        from optuna.trial import TrialState
        return {t.user_attrs.get("key") for t in self.trials((TrialState.WAITING, TrialState.RUNNING))
                if t.user_attrs.get("kind") == "run"}

    def given_up_keys(self) -> set[str]:
        """Run keys none of whose items finished and none is waiting or running: the run
        failed by itself, or its workers died ``MAX_ATTEMPTS`` times."""
        from optuna.trial import TrialState
        ended, alive = set(), set()
        for t in self.trials():
            key = t.user_attrs.get("key")
            if t.user_attrs.get("kind") != "run":
                continue
            if t.state in (TrialState.WAITING, TrialState.RUNNING) or \
                    t.user_attrs.get("outcome") in ("finished", "done"):
                alive.add(key)
            else:
                ended.add(key)
        return ended - alive

    def put_runs(self, runs: list[tuple[str, int, str]], round_: int | None = None) -> None:
        """Queue ``(arm, seed, key)`` runs, then (adaptive seeds) the marker of ``round_``."""
        for arm, seed, key in runs:
            _add(self.study, {"kind": "run", "arm": arm, "seed": int(seed), "key": key,
                              "attempt": 1})
        if round_ is not None:
            _add(self.study, {"kind": "round", "round": int(round_), "attempt": 1})

    # -- taking and settling an item ------------------------------------------------------------
    def recover_stale(self) -> None:
        import optuna
        from optuna.storages import fail_stale_trials
        with warnings.catch_warnings():  # the heartbeat is "experimental" since Optuna 2.9
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            fail_stale_trials(self.study)

    def take(self) -> Item | None:
        """The oldest waiting run (a round marker only when nothing else is waiting or
        running), now RUNNING and ours; None when there is nothing to take."""
        from optuna.exceptions import UpdateFinishedTrialError
        from optuna.trial import TrialState
        live = self.trials((TrialState.WAITING, TrialState.RUNNING))
        waiting = [t for t in live if t.state == TrialState.WAITING]
        runs = [t for t in waiting if t.user_attrs.get("kind") == "run"]
        candidates = runs or ([] if len(waiting) < len(live) else waiting)
        for trial in sorted(candidates, key=lambda t: t.number):
            try:
                # Beat first: a worker killed right after winning the claim must leave a
                # heartbeat that goes stale, or its run would be RUNNING for ever.
                self.storage.record_heartbeat(trial._trial_id)
                if self.storage.set_trial_state_values(trial._trial_id, TrialState.RUNNING):
                    self.storage.set_trial_user_attr(trial._trial_id, "worker",
                                                     {"host": socket.gethostname(),
                                                      "pid": os.getpid()})
                    return Item(trial._trial_id, trial.number, dict(trial.user_attrs))
            except UpdateFinishedTrialError:
                continue  # failed or finished by someone else meanwhile
        return None

    def note(self, item: Item, key: str, value) -> bool:
        """Record ``key`` on our item; False when it is no longer ours (see :meth:`settle`)."""
        from optuna.exceptions import UpdateFinishedTrialError
        try:
            self.storage.set_trial_user_attr(item.trial_id, key, value)
        except UpdateFinishedTrialError:
            return False
        return True

    def settle(self, item: Item, outcome: str) -> bool:
        """End our item: COMPLETE for ``finished`` / ``done``, FAIL with the outcome recorded
        otherwise (a run that failed by itself is not retried). False when the item was no
        longer ours (the heartbeat had given it up and queued it again)."""
        from optuna.exceptions import UpdateFinishedTrialError
        from optuna.trial import TrialState
        try:
            self.storage.set_trial_user_attr(item.trial_id, "outcome", outcome)
            state = TrialState.COMPLETE if outcome in ("finished", "done") else TrialState.FAIL
            return bool(self.storage.set_trial_state_values(
                item.trial_id, state, [0.0] if state == TrialState.COMPLETE else None))
        except UpdateFinishedTrialError:
            return False

    def release(self, item: Item) -> None:
        """Give our item back (this worker is stopping): it is queued again as it was."""
        if self.settle(item, "released"):
            _add(self.study, _item_attrs(item.attrs))

    def heartbeat(self, item: Item, interval: float) -> "Heartbeat":
        return Heartbeat(self.storage, item.trial_id, interval)


class Heartbeat:
    """Beats for one item from a thread while the block runs (the run itself holds the GIL
    only between numpy calls, so the beats keep coming during training)."""

    def __init__(self, storage, trial_id: int, interval: float):
        self.storage, self.trial_id, self.interval = storage, trial_id, interval
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._beat, daemon=True, name="bench-heartbeat")

    def _beat(self) -> None:
        while not self.stop.wait(self.interval):
            try:
                self.storage.record_heartbeat(self.trial_id)
            except Exception:  # a blip of the database: the next beat tries again
                pass

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(timeout=30)
