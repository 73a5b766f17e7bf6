"""Run many independent runs, in this process or in a pool of worker processes.

Workers use one BLAS thread each: the networks are small, so threads only contend, and a
fixed thread count keeps the floating-point results identical for any ``jobs``.

A dead worker costs one run. When a worker process is killed (the kernel's out-of-memory
killer sends SIGKILL), the run it was executing is reported as :class:`WorkerDied` ("worker
killed by signal 9"), not retried: a run that exhausts memory would exhaust it again, and the
next invocation of the same command resumes it. The pool is rebuilt; runs that were in
sibling workers (stopped by the broken pool, through no fault of their own) are handed out
again, and the runs not yet started go on. Workers die with the process that started them
(``bench.process.die_with_parent``), so a killed ``bench`` leaves no orphan holding the store.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager

from .process import die_with_parent
from .runner import RunResult, RunSpec, execute

__all__ = ["run_all", "limit_blas_threads", "default_jobs", "signals_held", "WorkerDied",
           "RunsLost"]


class WorkerDied(Exception):
    """The worker process executing a run was killed; the run did not finish."""

    def __init__(self, exitcode: int | None):
        self.exitcode = exitcode
        super().__init__(f"worker killed by signal {-exitcode}" if exitcode and exitcode < 0
                         else f"worker exited with status {exitcode}")


class RunsLost(Exception):
    """Some runs did not finish because their worker died; the rest are recorded."""

    def __init__(self, lost: list[str], total: int):
        self.lost, self.total = lost, total
        super().__init__(f"{len(lost)} of {total} runs lost: {'; '.join(lost[:3])}"
                         f"{'; ...' if len(lost) > 3 else ''}; the others are recorded: run the "
                         "same command again to run the lost ones")


def default_jobs() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def limit_blas_threads(n: int = 1):
    """Limit BLAS threads in this process (threadpoolctl); returns the limiter."""
    from threadpoolctl import threadpool_limits
    return threadpool_limits(limits=n, user_api="blas")


_started = None  # in a worker: where it says which run it took (see _Pool)


def _worker_init(parent: int, started) -> None:
    global _started
    _started = started
    die_with_parent(parent)
    # The parent owns Ctrl-C: it marks runs KILLED and stops the pool.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # Not the parent's SIGTERM handler (inherited by fork): the pool's terminate() at the end
    # would print a KeyboardInterrupt traceback from every idle worker.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    limit_blas_threads(1)


@contextmanager
def signals_held():
    """Ctrl-C and SIGTERM wait until the block ends, then act as they would have.

    For steps that must not be cut in half: an MLflow write interrupted mid-transaction can
    leave a SQLite store locked (so no run can be marked KILLED), and a KeyboardInterrupt
    raised inside Python's at-fork hooks (forking a worker) is printed and lost.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous = {s: signal.signal(s, lambda signum, frame: caught.append(signum))
                for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, signal.SIG_DFL if handler is None else handler)
        if caught:
            handler = previous[caught[0]]
            if callable(handler):
                handler(caught[0], None)  # e.g. raises KeyboardInterrupt
            elif handler in (signal.SIG_DFL, None):
                signal.raise_signal(caught[0])


def _import_plotting() -> None:
    """Import matplotlib (for the runs' learning curves) once here, before the workers fork,
    rather than once in every worker."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot  # noqa: F401


def _work(spec: RunSpec, out_dir: str | None, plot: bool = False) -> RunResult | BaseException:
    if _started is not None:
        _started.put((spec.key, os.getpid()))
    try:
        return execute(spec, out_dir, plot=plot)
    except Exception as exc:  # recorded as a FAILED run by the parent; the others go on
        exc.add_note(f"in run {spec.key}")
        return exc


class _Pool:
    """A ProcessPoolExecutor that can tell which run's worker died when it breaks: each
    worker announces (run key, pid) on a queue of this pool's own as it takes a run (a queue
    per pool: a worker killed while writing may leave its lock held)."""

    def __init__(self, jobs: int):
        ctx = multiprocessing.get_context()
        self.started = ctx.SimpleQueue()
        self.pool = ProcessPoolExecutor(max_workers=jobs, mp_context=ctx, initializer=_worker_init,
                                        initargs=(os.getpid(), self.started))
        self.processes: dict = {}  # pid -> Process, every worker this pool ever had

    def submit(self, spec: RunSpec, out_dir: str | None, plot: bool):
        with signals_held():  # it may fork the workers
            future = self.pool.submit(_work, spec, out_dir, plot)
        self.processes.update(getattr(self.pool, "_processes", None) or {})
        return future

    def dead_workers(self) -> dict[str, int]:
        """After the pool broke and was shut down: run key -> exit code of the worker that
        was executing it."""
        owner = {}
        while not self.started.empty():
            key, pid = self.started.get()
            owner[key] = pid  # a worker's later run replaces its earlier one
        return {key: self.processes[pid].exitcode for key, pid in owner.items()
                if pid in self.processes and self.processes[pid].exitcode is not None}

    def close(self, wait_for_workers: bool = False) -> None:
        processes = list(self.processes.values())
        self.pool.shutdown(wait=wait_for_workers, cancel_futures=True)
        for proc in processes:
            if proc.is_alive():
                proc.terminate()
        if wait_for_workers:
            for proc in processes:
                proc.join(10)


def _casualties(in_flight: list[RunSpec], exitcodes: dict[str, int], all_codes: list) -> set[str]:
    """Which of the runs in a broken pool died with their worker. A broken pool stops its
    other workers with SIGTERM, so those are not to blame, unless no worker of the pool died
    otherwise (then every run whose worker ended is, so a pool broken again and again still
    ends). A worker killed between two runs costs none."""
    ended = {s.key: exitcodes[s.key] for s in in_flight if exitcodes.get(s.key) not in (None, 0)}
    if any(code not in (None, 0, -signal.SIGTERM) for code in all_codes):
        return {k for k, code in ended.items() if code != -signal.SIGTERM}
    return set(ended)


def run_all(specs: Sequence[RunSpec], jobs: int, out_dir: Callable[[RunSpec], str | None],
            on_start: Callable[[RunSpec], None] = lambda s: None, plot: bool = False
            ) -> Iterator[tuple[RunSpec, RunResult | BaseException]]:
    """Yield ``(spec, result or exception)`` as runs finish. ``on_start`` is called in this
    process just before a run is handed out (so tracking can open its run first), once per
    run even if a broken pool hands it out again; ``plot`` draws each run's learning-curve
    PNG into its ``out_dir``. A run whose worker process was killed yields :class:`WorkerDied`."""
    if not specs:
        return
    # A pool forks all its workers up front: never more than there are runs to do.
    jobs = min(jobs, len(specs))
    if jobs <= 1:
        with limit_blas_threads(1):
            for spec in specs:
                on_start(spec)
                yield spec, _work(spec, out_dir(spec), plot)
        return
    pending = list(specs)
    if plot and out_dir(specs[0]) is not None:
        _import_plotting()
    pool = None
    started: set[str] = set()
    try:
        running = {}
        while pending or running:
            if pool is None:
                pool = _Pool(min(jobs, len(pending) + len(running)))
            # Keep at most `jobs` runs submitted, so on_start means "running now".
            broken = False
            while pending and len(running) < jobs:
                spec = pending[0]
                if spec.key not in started:
                    started.add(spec.key)
                    on_start(spec)
                try:
                    running[pool.submit(spec, out_dir(spec), plot)] = pending.pop(0)
                except BrokenProcessPool:  # a worker died since the last wait
                    broken = True
                    break
            if not broken:
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                broken = any(isinstance(f.exception(), BrokenProcessPool) for f in done)
            if broken:
                failed_pool, pool = pool, None
                failed_pool.close(wait_for_workers=True)  # every future is settled after this
                exitcodes = failed_pool.dead_workers()
                in_flight = [s for f, s in running.items()
                             if isinstance(f.exception(), BrokenProcessPool)]
                lost = _casualties(in_flight, exitcodes,
                                   [p.exitcode for p in failed_pool.processes.values()])
                for future, spec in list(running.items()):
                    del running[future]
                    exc = future.exception()
                    if not isinstance(exc, BrokenProcessPool):
                        yield spec, exc if exc is not None else future.result()
                    elif spec.key in lost:
                        yield spec, WorkerDied(exitcodes[spec.key])
                    else:
                        pending.insert(0, spec)  # stopped by the broken pool: run it again
                continue
            for future in done:
                spec = running.pop(future)
                exc = future.exception()
                yield spec, exc if exc is not None else future.result()
    finally:
        # On an interrupt, stop workers now rather than waiting for their current runs.
        if pool is not None:
            pool.close()
