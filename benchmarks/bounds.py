"""What the biggest overhead pieces of an epoch are bound by, measured next to a yardstick.

For each piece that ``budget`` finds beyond the matrix-product floor, the same work per epoch
is timed alongside the cheapest operation on the same memory, in one process:

* gather: the shuffled rows of each batch (``np.take``, as ``Trainer`` does) against a copy
  of consecutive rows (same bytes, no random access): random rows cost DRAM latency;
* optimizer step: SGD with momentum over the flat parameter block against one in-place
  elementwise pass over that block: how many passes over the parameters the update is;
* tanh forward: ``np.tanh`` over the hidden activations against ``np.multiply`` over them;
* a numpy call: one ufunc on a one-element array, what every call in a step pays before
  doing any work.

Figures are seconds per epoch (per call for the last), medians over ``repeats``.
"""

from __future__ import annotations

import statistics
import time

import numpy as np

from .core import HIDDEN, make_trainer
from .machine import blas_limits

__all__ = ["epoch_bounds"]


def _timed(fn) -> float:
    t = time.process_time()
    fn()
    return time.process_time() - t


def _gathers(x, order, batch):
    buf = np.empty((batch, x.shape[1]), x.dtype)
    n = x.shape[0]

    def shuffled():
        for s in range(0, n, batch):
            idx = order[s:s + batch]
            np.take(x, idx, axis=0, out=buf[:idx.shape[0]], mode="clip")

    def consecutive():
        for s in range(0, n, batch):
            part = x[s:s + batch]
            np.copyto(buf[:part.shape[0]], part)
    return shuffled, consecutive


def _updates(batch, steps):
    opt = make_trainer(batch).optimizer
    block = opt._block
    block.grad[...] = 1e-3       # finite, small: the values do not change the cost
    value = block.value

    def step():
        for _ in range(steps):
            opt.step()

    def one_pass():
        for _ in range(steps):
            np.multiply(value, 1.0, out=value)
    return step, one_pass, value.size


def _activations(batch, steps, dtype):
    h = np.random.default_rng(0).standard_normal((batch, HIDDEN)).astype(dtype)
    out = np.empty_like(h)

    def tanh():
        for _ in range(steps):
            np.tanh(h, out=out)

    def multiply():
        for _ in range(steps):
            np.multiply(h, h, out=out)
    return tanh, multiply


def _call_cost(calls=20_000) -> float:
    a = np.ones(1, np.float32)
    t = time.process_time()
    for _ in range(calls):
        np.add(a, a, out=a)
    return (time.process_time() - t) / calls


def epoch_bounds(x: np.ndarray, batch: int, threads: int | None = 1, repeats: int = 3) -> dict:
    """Per piece, its time per epoch and its yardstick's, and their ratio (see module doc)."""
    steps = -(-x.shape[0] // batch)
    order = np.random.default_rng(0).permutation(x.shape[0])
    shuffled, consecutive = _gathers(x, order, batch)
    step, one_pass, n_params = _updates(batch, steps)
    tanh, multiply = _activations(batch, steps, x.dtype)
    pairs = {"gather": (shuffled, consecutive), "optimizer step": (step, one_pass),
             "tanh forward": (tanh, multiply)}
    times = {name: ([], []) for name in pairs}
    with blas_limits(threads), np.errstate(all="ignore"):
        for i in range(repeats + 1):  # the first round warms up
            for name, (piece, yardstick) in pairs.items():
                first, second = (piece, yardstick) if i % 2 else (yardstick, piece)
                a, b = _timed(first), _timed(second)
                if i:
                    times[name][0].append(a if i % 2 else b)
                    times[name][1].append(b if i % 2 else a)
        call = statistics.median(_call_cost() for _ in range(repeats))
    out = {"batch": batch, "steps": steps, "parameters": n_params, "call_s": call, "pieces": {}}
    for name, (piece, yard) in times.items():
        p, y = statistics.median(piece), statistics.median(yard)
        out["pieces"][name] = {"cpu_s": p, "yardstick_cpu_s": y, "ratio": p / y if y else None}
    return out
