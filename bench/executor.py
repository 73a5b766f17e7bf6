"""Run many independent runs, in this process or in a pool of worker processes.

Workers use one BLAS thread each: the networks are small, so threads only contend, and a
fixed thread count keeps the floating-point results identical for any ``jobs``.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from contextlib import contextmanager

from .runner import RunResult, RunSpec, execute

__all__ = ["run_all", "limit_blas_threads", "default_jobs", "signals_held"]


def default_jobs() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def limit_blas_threads(n: int = 1):
    """Limit BLAS threads in this process (threadpoolctl); returns the limiter."""
    from threadpoolctl import threadpool_limits
    return threadpool_limits(limits=n, user_api="blas")


def _worker_init() -> None:
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


def _submit(pool, spec: RunSpec, out_dir: str | None, plot: bool):
    with signals_held():  # it may fork the workers
        return pool.submit(_work, spec, out_dir, plot)


def _work(spec: RunSpec, out_dir: str | None, plot: bool = False) -> RunResult | BaseException:
    try:
        return execute(spec, out_dir, plot=plot)
    except Exception as exc:  # recorded as a FAILED run by the parent; the others go on
        exc.add_note(f"in run {spec.key}")
        return exc


def run_all(specs: Sequence[RunSpec], jobs: int, out_dir: Callable[[RunSpec], str | None],
            on_start: Callable[[RunSpec], None] = lambda s: None, plot: bool = False
            ) -> Iterator[tuple[RunSpec, RunResult | BaseException]]:
    """Yield ``(spec, result or exception)`` as runs finish. ``on_start`` is called in this
    process just before a run is handed out (so tracking can open its run first); ``plot``
    draws each run's learning-curve PNG into its ``out_dir``."""
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
    pool = ProcessPoolExecutor(max_workers=jobs, initializer=_worker_init)
    try:
        running = {}
        while pending or running:
            # Keep at most `jobs` runs submitted, so on_start means "running now".
            while pending and len(running) < jobs:
                spec = pending.pop(0)
                on_start(spec)
                running[_submit(pool, spec, out_dir(spec), plot)] = spec
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                spec = running.pop(future)
                exc = future.exception()
                yield spec, exc if exc is not None else future.result()
    finally:
        # On an interrupt, stop workers now rather than waiting for their current runs.
        processes = list((getattr(pool, "_processes", None) or {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        for proc in processes:
            if proc.is_alive():
                proc.terminate()
