"""``bench run --storage URL``: the invocation's runs on a shared queue.

The coordinator opens (or resumes) the parent and arm runs as a local invocation does, puts
the runs that are not yet FINISHED on the queue named after the parent run, publishes the
settings any worker needs, and works on the queue with ``--jobs`` local worker processes;
``bench worker`` processes anywhere take runs from it too. When nothing is left waiting or
running it reconciles the queue with MLflow (:func:`reconcile`) and hands back what failed or
was lost, and the session closes the parent and the tables are built, as for a local run.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import time

from .. import store
from .. import tags as T
from ..redaction import redact
from .items import give_up, settings_for
from .runqueue import RunQueue, has_work, open_queue_storage, queue_name
from .worker import local_worker

__all__ = ["SharedQueue", "reconcile"]


def _absolute(uri: str) -> str:
    """A relative SQLite path would mean another file to a worker started elsewhere."""
    if uri.startswith("sqlite:///") and not uri.startswith("sqlite:////"):
        return "sqlite:///" + os.path.abspath(uri[len("sqlite:///"):])
    return uri


class SharedQueue:
    """The session's executor for ``--storage``: called once with the invocation's runs."""

    def __init__(self, storage_url: str):
        self.url = storage_url
        # Opened now, before any MLflow run exists: a wrong password or database must fail
        # the command with nothing created (the preflight only reaches the server's port).
        self.storage = open_queue_storage(storage_url)

    def __call__(self, *, tracker, experiment, experiment_id: str, parent: str, arm_runs: dict,
                 specs, all_keys, seeds, data_seed: int, data_dir, precision, jobs: int,
                 run_plots: bool, env: dict, quiet: bool) -> tuple[set[str], list[str]]:
        queue = RunQueue.create(self.storage, queue_name(parent))
        live = queue.live_keys()
        todo = [(s.arm, s.seed, s.key) for s in specs if s.key not in live]
        rounds = [t.user_attrs.get("round", 0) for t in queue.trials()
                  if t.user_attrs.get("kind") == "round"]
        queue.put_runs(todo, round_=(max(rounds, default=0) + 1) if precision else None)
        queue.publish(settings_for(
            experiment=experiment, tracking_uri=_absolute(tracker.uri),
            experiment_id=experiment_id, parent=parent, arm_runs=arm_runs, seeds=seeds,
            data_seed=data_seed, data_dir=data_dir, precision=precision, run_plots=run_plots,
            git_commit=env.get(T.GIT_COMMIT), dataset=experiment.arms[0].config.dataset))
        if not quiet:
            print(f"queued {len(todo)} run(s) on run queue {queue.name}; other machines join "
                  f"with `python -m bench worker --storage {redact(self.url)}`",
                  file=sys.stderr, flush=True)
        self._work(queue, jobs, quiet)
        return reconcile(tracker, queue, experiment_id, parent, set(all_keys))

    def _work(self, queue: RunQueue, jobs: int, quiet: bool) -> None:
        ctx = multiprocessing.get_context("fork")
        queue.storage.engine.dispose()  # the forked workers must not share its connections
        procs = [ctx.Process(target=local_worker, args=(self.url, queue.name, os.getpid()),
                             name=f"bench-queue-worker-{i}", daemon=True) for i in range(jobs)]
        for p in procs:
            p.start()
        try:
            shown = None
            while True:
                line = _progress(queue)
                if not quiet and line != shown:
                    print(line, file=sys.stderr, flush=True)
                    shown = line
                if not any(p.is_alive() for p in procs):
                    break
                time.sleep(1.0)
            # Local workers stop only once nothing is waiting or running; if they all
            # crashed instead, serve the queue here rather than wait for ever.
            if has_work(queue.storage, queue.study_id):
                from .worker import WorkerReport, serve_queue
                serve_queue(queue, WorkerReport(), check_commit=False)
        finally:
            for p in procs:
                if p.is_alive():
                    p.terminate()
            for p in procs:
                p.join(30)


def _progress(queue: RunQueue) -> str:
    from optuna.trial import TrialState
    runs = [t for t in queue.trials() if t.user_attrs.get("kind") == "run"]
    done = sum(1 for t in runs if t.user_attrs.get("outcome") in ("finished", "done"))
    failed = sum(1 for t in runs if t.user_attrs.get("outcome") == "error")
    running = sum(1 for t in runs if t.state == TrialState.RUNNING)
    waiting = sum(1 for t in runs if t.state == TrialState.WAITING)
    return (f"run queue: {done} finished, {running} running, {waiting} waiting"
            + (f", {failed} failed" if failed else ""))


def reconcile(tracker, queue: RunQueue, experiment_id: str, parent: str,
              planned: set[str]) -> tuple[set[str], list[str]]:
    """Make MLflow say what the queue did, once per run, and return ``(failed keys, lost)``.

    - a run whose item settled ``finished`` but whose worker died before ending it in MLflow
      (every result was recorded before the item settled) is ended FINISHED;
    - of two FINISHED attempts of one run (a worker that lost its item but finished anyway)
      the first is kept and the others superseded: the runs are deterministic, so they hold
      the same numbers, and each (arm, seed) counts once;
    - an attempt still RUNNING is ended KILLED and superseded;
    - a run with no FINISHED attempt is failed (it raised) or lost (its workers died).
    """
    settled = {t.user_attrs.get("mlflow_run_id") for t in queue.trials()
               if t.user_attrs.get("outcome") == "finished"}
    runs = store.invocation_runs(tracker, experiment_id, parent,
                                 order_by=["attributes.start_time ASC"])
    by_key: dict[str, list] = {}
    for run in runs:
        by_key.setdefault(run.data.tags.get(T.RUN_KEY), []).append(run)
    keys = planned | {t.user_attrs.get("key") for t in queue.trials()
                      if t.user_attrs.get("kind") == "run"}
    failed, lost = set(), []
    for key in sorted(keys):
        attempts = by_key.get(key, [])
        status = {r.info.run_id: r.info.status for r in attempts}
        for run_id, state in status.items():
            if state == "RUNNING" and run_id in settled:
                tracker.end(run_id, "FINISHED")
                status[run_id] = "FINISHED"
        finished = [r for r in attempts if status[r.info.run_id] == "FINISHED"]
        keep = finished[0].info.run_id if finished else None
        for run in attempts:
            if run.info.run_id == keep:
                continue
            if status[run.info.run_id] == "RUNNING" or (keep and status[run.info.run_id] == "FINISHED"):
                give_up(tracker, run.info.run_id, "a duplicate or abandoned attempt of a run "
                        "taken from the queue", successor=keep)
        if keep:
            continue
        failed.add(key)
        if "FAILED" not in status.values():
            lost.append(f"{key} (its workers died)")
    return failed, lost
