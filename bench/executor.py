"""Run many independent runs, in this process or in a pool of worker processes.

Workers use one BLAS thread each: the networks are small, so threads only contend, and a
fixed thread count keeps the floating-point results identical for any ``jobs``.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

from .runner import RunResult, RunSpec, execute

__all__ = ["run_all", "limit_blas_threads", "default_jobs"]


def default_jobs() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def limit_blas_threads(n: int = 1):
    """Limit BLAS threads in this process (threadpoolctl); returns the limiter."""
    from threadpoolctl import threadpool_limits
    return threadpool_limits(limits=n, user_api="blas")


def _worker_init() -> None:
    # The parent owns Ctrl-C: it marks runs KILLED and stops the pool.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    limit_blas_threads(1)


def _work(spec: RunSpec, out_dir: str | None) -> RunResult | BaseException:
    try:
        return execute(spec, out_dir)
    except Exception as exc:  # recorded as a FAILED run by the parent; the others go on
        exc.add_note(f"in run {spec.key}")
        return exc


def run_all(specs: Sequence[RunSpec], jobs: int, out_dir: Callable[[RunSpec], str | None],
            on_start: Callable[[RunSpec], None] = lambda s: None
            ) -> Iterator[tuple[RunSpec, RunResult | BaseException]]:
    """Yield ``(spec, result or exception)`` as runs finish. ``on_start`` is called in this
    process just before a run is handed out (so tracking can open its run first)."""
    if jobs <= 1:
        with limit_blas_threads(1):
            for spec in specs:
                on_start(spec)
                yield spec, _work(spec, out_dir(spec))
        return
    pending = list(specs)
    pool = ProcessPoolExecutor(max_workers=jobs, initializer=_worker_init)
    try:
        running = {}
        while pending or running:
            # Keep at most `jobs` runs submitted, so on_start means "running now".
            while pending and len(running) < jobs:
                spec = pending.pop(0)
                on_start(spec)
                running[pool.submit(_work, spec, out_dir(spec))] = spec
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
