"""Interleaved A/B of the directions the core issue proposed, each against what nn_core does.

Per direction, the same work per epoch (batch 64 by default) is timed both ways in turn, in
one process, order alternating; figures are CPU seconds per epoch, medians of ``repeats``.

* fused momentum: the weight gradients' products plus the momentum step, as nn_core runs
  them (``np.matmul`` into ``W.grad``, then ``SGD.step``), against the velocity accumulated
  inside the product (``scipy.linalg.blas.sgemm`` with ``beta=mu``, ``alpha=lr`` and
  ``overwrite_c`` on the velocity), the biases' velocity and the parameter update after it;
  also whether the two give the same bits;
* uint8 gather: shuffled float32 rows gathered into the batch (nn_core) against shuffled
  uint8 rows (a quarter of the bytes) standardised into a preallocated float32 batch
  (``(u - mean) * (1/std)``, two calls).
"""

from __future__ import annotations

import statistics
import time

import numpy as np

from .core import make_trainer
from .machine import blas_limits

__all__ = ["measure_directions"]


def _cpu(fn) -> float:
    t = time.process_time()
    fn()
    return time.process_time() - t


def _momentum(x, batch, steps):
    """The two ways to get the weights' gradients into an SGD-momentum update."""
    from scipy.linalg import blas
    gemm = {np.dtype(np.float32): blas.sgemm, np.dtype(np.float64): blas.dgemm}[x.dtype]
    trainers = [make_trainer(batch) for _ in range(2)]
    dense1, _, dense2 = trainers[0].network.layers
    rng = np.random.default_rng(1)
    d1 = (rng.standard_normal((batch, dense1.units)) * 1e-3).astype(x.dtype)
    d2 = (rng.standard_normal((batch, dense2.units)) * 1e-3).astype(x.dtype)
    h = np.tanh(x[:batch] @ dense1.W.value)
    batches = [x[s:s + batch] for s in range(0, steps * batch, batch)]

    def numpy_way(trainer=trainers[0]):
        l1, _, l2 = trainer.network.layers
        opt = trainer.optimizer
        for xb in batches:
            np.matmul(xb.T, d1, out=l1.W.grad)
            np.matmul(h.T, d2, out=l2.W.grad)
            opt.step()

    def fused(trainer=trainers[1]):
        l1, _, l2 = trainer.network.layers
        opt = trainer.optimizer
        opt.step()  # makes the velocity; the timing below then runs only the fused form
        block, v = opt._block, opt._flat_state["velocity"]
        nd = block.n_decay
        v1, v2 = block.view(v, l1.W), block.view(v, l2.W)
        scratch = np.empty(v.size - nd, v.dtype)
        t = time.process_time()
        for xb in batches:
            # v^T = mu v^T + lr (d^T x): the C-ordered velocity is Fortran-ordered transposed.
            gemm(opt.lr, d1, xb, beta=opt.momentum, c=v1.T, trans_a=1, overwrite_c=1)
            gemm(opt.lr, d2, h, beta=opt.momentum, c=v2.T, trans_a=1, overwrite_c=1)
            tail = v[nd:]
            tail *= opt.momentum
            tail += np.multiply(block.grad[nd:], opt.lr, out=scratch)
            block.value -= v
        return time.process_time() - t

    def same_bits() -> bool:
        a, b = make_trainer(batch), make_trainer(batch)
        for trainer, way in ((a, numpy_way), (b, fused)):
            way(trainer)
        return bool(np.array_equal(a.network._flat.value, b.network._flat.value))
    return numpy_way, fused, same_bits


def _gathers(x, order, batch):
    """float32 rows against uint8 rows standardised into a float32 batch."""
    u8 = np.floor(x * 255.0).astype(np.uint8)
    mean, inv_std = np.float32(u8.mean()), np.float32(1.0 / u8.std())
    fbuf = np.empty((batch, x.shape[1]), x.dtype)
    ubuf = np.empty((batch, x.shape[1]), np.uint8)
    n = x.shape[0]

    def floats():
        for s in range(0, n, batch):
            idx = order[s:s + batch]
            np.take(x, idx, axis=0, out=fbuf[:idx.shape[0]], mode="clip")

    def bytes_():
        for s in range(0, n, batch):
            idx = order[s:s + batch]
            m = idx.shape[0]
            np.take(u8, idx, axis=0, out=ubuf[:m], mode="clip")
            out = np.subtract(ubuf[:m], mean, out=fbuf[:m], dtype=x.dtype)
            out *= inv_std
    return floats, bytes_


def measure_directions(x: np.ndarray, batch: int = 64, repeats: int = 5) -> dict:
    steps = x.shape[0] // batch
    order = np.random.default_rng(0).permutation(x.shape[0])
    numpy_way, fused, same_bits = _momentum(x, batch, steps)
    floats, bytes_ = _gathers(x, order, batch)
    pairs = {"fused momentum": (numpy_way, fused), "uint8 gather": (floats, bytes_)}
    times = {name: ([], []) for name in pairs}
    with blas_limits(1), np.errstate(all="ignore"):
        for i in range(repeats + 1):  # round 0 warms up
            for name, (now, proposed) in pairs.items():
                run = [(0, now), (1, proposed)]
                for side, fn in (run if i % 2 else run[::-1]):
                    seconds = fn() if fn is fused else _cpu(fn)
                    if i:
                        times[name][side].append(seconds)
        identical = same_bits()
    out = {"batch": batch, "repeats": repeats, "pieces": {}}
    for name, (now, proposed) in times.items():
        a, b = statistics.median(now), statistics.median(proposed)
        out["pieces"][name] = {"now_cpu_s": a, "proposed_cpu_s": b, "ratio": b / a,
                               "proposed_faster": sum(p < q for p, q in zip(proposed, now))}
    out["pieces"]["fused momentum"]["same_bits"] = identical
    return out
