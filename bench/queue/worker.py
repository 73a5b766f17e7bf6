"""``bench worker --storage URL``: take runs from the storage's run queues until none is left.

A worker serves any run queue that has work, one at a time. While the last runs of a queue
run elsewhere it keeps looking (every ``POLL_SECONDS``), so that a run whose worker dies is
taken again once the heartbeat gives it up, and a new round of adaptive seeds is taken as
soon as it is queued; when nothing of a queue is waiting or running any more it moves on,
and when no queue has work it stops. A storage that holds no run queue at all is waited for
(a worker started before the coordinator); ``wait_for_work`` waits in any case (a standing
worker), until ``timeout``.
"""

from __future__ import annotations

import os
import signal
import sys
import tempfile
import time

from .runqueue import MAX_ATTEMPTS, RunQueue, has_work, list_queues, open_queue_storage

__all__ = ["serve", "serve_queue", "local_worker", "POLL_SECONDS", "WorkerReport"]

POLL_SECONDS = 1.0


class WorkerReport:
    def __init__(self):
        self.ran = self.done = self.errors = self.lost = 0
        self.queues: list[str] = []
        self.state = ""   # "empty", "timeout", "limit"

    def count(self, outcome: str) -> None:
        if outcome == "finished":
            self.ran += 1
        elif outcome == "error":
            self.errors += 1
        elif outcome == "lost":
            self.lost += 1
        else:
            self.done += 1


def _context(queue: RunQueue, check_commit: bool):
    from .. import tags as T
    from ..environment import environment_tags
    from ..planning import UsageError
    from ..tracking import Tracker
    from .items import QueueContext
    settings = queue.settings
    env = environment_tags()
    mine, theirs = env.get(T.GIT_COMMIT), settings.get("git_commit")
    if check_commit and mine and theirs and mine != theirs:
        raise UsageError(f"this worker's code is at git commit {mine[:12]} but run queue "
                         f"{queue.name} was made at {theirs[:12]}: its runs would not be "
                         "comparable; check out that commit here")
    return QueueContext(settings, Tracker(settings["tracking_uri"]), env)


def serve_queue(queue: RunQueue, report: WorkerReport, *, deadline: float | None = None,
                max_runs: int | None = None, check_commit: bool = True) -> None:
    """Take items of ``queue`` until none is waiting or running (or the deadline / limit)."""
    from ..executor import limit_blas_threads
    from .items import plan_round, run_item
    ctx = _context(queue, check_commit)
    interval = queue.storage.get_heartbeat_interval() or 5
    report.queues.append(queue.name)
    with limit_blas_threads(1), tempfile.TemporaryDirectory(prefix="bench-worker-") as out:
        while True:
            if deadline is not None and time.monotonic() >= deadline:
                report.state = "timeout"
                return
            if max_runs is not None and report.ran + report.errors >= max_runs:
                report.state = "limit"
                return
            queue.recover_stale()
            item = queue.take()
            if item is None:
                if not has_work(queue.storage, queue.study_id):
                    return
                time.sleep(POLL_SECONDS)  # the last runs are elsewhere; one may come back
                continue
            with queue.heartbeat(item, interval):
                if item.kind == "round":
                    plan_round(ctx, queue, item)
                else:
                    report.count(run_item(ctx, queue, item, out))


def serve(storage_url: str, *, timeout: float | None = None, max_runs: int | None = None,
          wait_for_work: bool = False, quiet: bool = False, only: str | None = None
          ) -> WorkerReport:
    """Serve the run queues of ``storage_url`` (or just the queue named ``only``)."""
    storage = open_queue_storage(storage_url)
    deadline = None if timeout is None else time.monotonic() + timeout
    report = WorkerReport()
    waiting_said = False
    while True:
        queues = [q for q in list_queues(storage) if only is None or q[0] == only]
        active = [name for name, study_id in queues if has_work(storage, study_id)]
        if active:
            serve_queue(RunQueue(storage, active[0]), report, deadline=deadline,
                        max_runs=max_runs)
            if report.state:
                return report
            continue
        if (queues or report.queues) and not wait_for_work:
            report.state = "empty"
            return report
        if deadline is not None and time.monotonic() >= deadline:
            report.state = "timeout"
            return report
        if not waiting_said and not quiet:
            print("bench worker: no run has been queued yet: waiting for `bench run ... "
                  "--storage` (Ctrl-C to stop)", file=sys.stderr, flush=True)
            waiting_said = True
        time.sleep(POLL_SECONDS)


def local_worker(storage_url: str, name: str, parent_pid: int) -> None:
    """Entry point of the worker processes ``bench run --storage --jobs N`` starts."""
    from ..process import die_with_parent
    die_with_parent(parent_pid)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the coordinator owns Ctrl-C
    # SIGTERM from the coordinator: give the current run back to the queue, then stop.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        serve_queue(RunQueue(open_queue_storage(storage_url), name), WorkerReport(),
                    check_commit=False)
    except KeyboardInterrupt:
        os._exit(130)


MESSAGES = {
    "empty": "no run is left on the queue",
    "timeout": "stopped at --timeout",
    "limit": "stopped after the runs --trials allowed",
}


def summary(report: WorkerReport, storage: str) -> str:
    """The worker's last line."""
    where = ", ".join(report.queues) or f"no run queue with work in {storage}"
    extra = "".join(f", {n} {what}" for n, what in (
        (report.done, "already finished elsewhere"), (report.errors, "failed"),
        (report.lost, f"given up by the heartbeat (retried up to {MAX_ATTEMPTS} times)")) if n)
    verdict = MESSAGES.get(report.state, report.state)
    if not report.queues and report.state == "empty":
        verdict = "nothing to do: every run queue there is empty"
    return f"bench worker: ran {report.ran} run(s){extra} ({where}); {verdict}"
