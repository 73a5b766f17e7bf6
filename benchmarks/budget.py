"""Where an epoch's time goes beyond the matrix products: ``python -m benchmarks budget``.

Runs nn_core's training step piece by piece (the same calls ``Trainer`` makes, with a timer
around each) next to the floor's products with a timer around each, under one BLAS thread
setting, and reports per-epoch seconds per piece (median of the repeats). A Dense layer's overhead is its time
minus its products' time in the floor. Timers (perf_counter, ~0.1 us each) add ~0.1 us per piece and step.
"""

from __future__ import annotations

import time
from collections import defaultdict

import numpy as np

from .core import CLASSES, HIDDEN, INPUT_DIM, make_trainer
from .floor import FloorWorkspace
from .machine import blas_info, blas_limits

__all__ = ["epoch_budget"]


def _nn_core_pieces(x, y, batch) -> dict[str, float]:
    trainer = make_trainer(batch)
    net, loss, opt = trainer.network, trainer.loss, trainer.optimizer
    dense1, act, dense2 = net.layers
    xbuf, ybuf = np.empty((batch, x.shape[1]), x.dtype), np.empty(batch, y.dtype)
    order = trainer._shuffle_rng.permutation(x.shape[0])
    spent = defaultdict(float)
    clock = time.perf_counter
    with np.errstate(all="ignore"):
        for start in range(0, x.shape[0], batch):
            t0 = clock()
            idx = order[start:start + batch]
            m = idx.shape[0]
            xb = np.take(x, idx, axis=0, out=xbuf[:m], mode="clip")
            yb = np.take(y, idx, axis=0, out=ybuf[:m], mode="clip")
            t1 = clock(); h = dense1.forward(xb, True)
            t2 = clock(); a = act.forward(h, True)
            t3 = clock(); out = dense2.forward(a, True)
            t4 = clock(); _, grad = loss.value_and_grad(out, yb)
            t5 = clock(); grad = dense2.backward(grad)
            t6 = clock(); grad = act.backward(grad)
            t7 = clock(); dense1.backward(grad)
            t8 = clock(); opt.step()
            t9 = clock()
            for name, a_, b_ in (("gather batch", t0, t1), ("dense1 forward", t1, t2),
                                 ("tanh forward", t2, t3), ("dense2 forward", t3, t4),
                                 ("loss value+grad", t4, t5), ("dense2 backward", t5, t6),
                                 ("tanh backward", t6, t7), ("dense1 backward", t7, t8),
                                 ("optimizer step", t8, t9)):
                spent[name] += b_ - a_
    return dict(spent)


def _floor_pieces(x, batch) -> dict[str, float]:
    ws = FloorWorkspace(INPUT_DIM, HIDDEN, CLASSES, batch)
    spent = defaultdict(float)
    clock, matmul = time.perf_counter, np.matmul
    for start in range(0, x.shape[0], batch):
        xb = x[start:start + batch]
        m = xb.shape[0]
        h, out, d1, d2 = ws.h[:m], ws.out[:m], ws.d1[:m], ws.d2[:m]
        t0 = clock(); matmul(xb, ws.W1, out=h)
        t1 = clock(); matmul(h, ws.W2, out=out)
        t2 = clock(); matmul(h.T, d2, out=ws.dW2); matmul(d2, ws.W2.T, out=d1)
        t3 = clock(); matmul(xb.T, d1, out=ws.dW1)
        t4 = clock()
        spent["dense1 forward"] += t1 - t0
        spent["dense2 forward"] += t2 - t1
        spent["dense2 backward"] += t3 - t2
        spent["dense1 backward"] += t4 - t3
    return dict(spent)


def epoch_budget(x, y, batch: int, threads: int | None = 1, repeats: int = 3) -> dict:
    """Per piece: median seconds per epoch in nn_core, in the floor, and the difference."""
    runs_nn, runs_floor = [], []
    with blas_limits(threads):
        blas = blas_info()
        for _ in range(repeats + 1):  # the first run warms up
            runs_nn.append(_nn_core_pieces(x, y, batch))
            runs_floor.append(_floor_pieces(x, min(batch, x.shape[0])))
    med = lambda runs, k: float(np.median([r.get(k, 0.0) for r in runs[1:]]))  # noqa: E731
    rows = {}
    for name in runs_nn[0]:
        nn, fl = med(runs_nn, name), med(runs_floor, name)
        rows[name] = {"nn_core_s": nn, "floor_s": fl, "overhead_s": nn - fl}
    return {"batch": batch, "threads": threads, "pieces": rows, "blas": blas}
