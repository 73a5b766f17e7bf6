"""Flat parameter storage against per-parameter storage: the same epoch, paired.

``nn_core.Sequential`` keeps all parameters in one array per kind (``nn_core.flat``), so an
optimizer step is a few numpy calls over one array. The other arm gives every parameter its
own arrays again before the optimizer is made (``detach``), which is exactly what nn_core did
before: the optimizer then steps parameter by parameter. Epochs of the two arms alternate
(the order flips every pair), so each pair saw the same machine; figures are the medians of
the per-pair ratios, for wall time, process CPU time, and CPU time inside the optimizer
step (timed in the loop, in context: the arrays are as cold or warm as in training).
"""

from __future__ import annotations

import statistics
import time

from .core import make_trainer
from .machine import blas_info, blas_limits

__all__ = ["detach", "flat_speed"]


def detach(trainer) -> None:
    """Give every parameter its own value and grad arrays (the pre-flat layout)."""
    params = trainer.network.parameters()
    for p in params:
        p.value, p.grad = p.value.copy(), p.grad.copy()
    trainer.optimizer = type(trainer.optimizer)(params, lr=trainer.optimizer.lr,
                                                momentum=trainer.optimizer.momentum)


def _epoch(x, y, batch: int, flat: bool) -> tuple[float, float, float, float]:
    """Wall and CPU seconds of one epoch, CPU seconds inside ``optimizer.step``, the loss."""
    trainer = make_trainer(batch)
    if not flat:
        detach(trainer)
    if (trainer.optimizer._block is not None) != flat:
        raise RuntimeError("the optimizer did not take the intended path")
    step, spent, clock = trainer.optimizer.step, [0.0], time.process_time

    def timed_step():
        started = clock()
        step()
        spent[0] += clock() - started
    trainer.optimizer.step = timed_step  # ~0.2 us per step, alike in both arms
    w, c = time.perf_counter(), clock()
    history = trainer.fit(x, y)
    return time.perf_counter() - w, clock() - c, spent[0], history.records[0].train_loss


def flat_speed(x, y, batch: int = 64, pairs: int = 6, threads: int | None = 1) -> dict:
    """Median flat/per-parameter epoch-time ratios over ``pairs`` alternating pairs."""
    runs = {True: [], False: []}
    with blas_limits(threads):
        blas = blas_info()
        _epoch(x, y, batch, True), _epoch(x, y, batch, False)  # warm-up
        for i in range(pairs):
            for flat in ((True, False) if i % 2 else (False, True)):
                runs[flat].append(_epoch(x, y, batch, flat))
    ratio = lambda k: [f[k] / p[k] for f, p in zip(runs[True], runs[False])]  # noqa: E731
    med = lambda flat, k: statistics.median(r[k] for r in runs[flat])  # noqa: E731
    wall, cpu, step = ratio(0), ratio(1), ratio(2)
    return {
        "batch": batch, "threads": threads, "samples": x.shape[0], "pairs": pairs,
        "flat_wall_s": med(True, 0), "per_param_wall_s": med(False, 0),
        "flat_cpu_s": med(True, 1), "per_param_cpu_s": med(False, 1),
        "flat_step_cpu_s": med(True, 2), "per_param_step_cpu_s": med(False, 2),
        "wall_ratio": statistics.median(wall), "cpu_ratio": statistics.median(cpu),
        "step_cpu_ratio": statistics.median(step),
        "pairs_flat_faster_cpu": sum(r < 1 for r in cpu),
        "pairs_flat_faster_step": sum(r < 1 for r in step),
        "same_loss": all(f[3] == p[3] for f, p in zip(runs[True], runs[False])),
        "blas": blas,
    }
