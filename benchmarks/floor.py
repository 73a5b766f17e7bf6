"""The floor of a training epoch: only the matrix products it cannot avoid.

For a two-layer network ``x -> Dense(h) -> act -> Dense(k)`` one step needs

    forward   a1 = x @ W1,        a2 = h @ W2
    backward  dW2 = h.T @ d2,     dh = d2 @ W2.T,     dW1 = x.T @ d1

(no ``d1 @ W1.T``: nothing needs the gradient with respect to the data). Here they run with
preallocated outputs over the same batch shapes as an epoch, including the smaller last
batch, reading each batch from the data array as training would. Everything else an epoch
does -- gathering shuffled rows, biases, activations, the loss, the optimizer update, Python
-- is the overhead that ``epoch / floor`` measures.
"""

from __future__ import annotations

import time

import numpy as np

__all__ = ["FloorWorkspace", "floor_epoch"]


class FloorWorkspace:
    """Weights and preallocated outputs for the products of one step at batch ``batch``."""

    def __init__(self, fan_in: int, hidden: int, outputs: int, batch: int, dtype=np.float32,
                 seed: int = 0):
        rng = np.random.default_rng(seed)
        def normal(*shape):
            return (rng.standard_normal(shape) * 0.05).astype(dtype)
        self.batch = batch
        self.W1, self.W2 = normal(fan_in, hidden), normal(hidden, outputs)
        self.dW1, self.dW2 = np.empty_like(self.W1), np.empty_like(self.W2)
        # The activations and the gradients flowing back; random values, never NaN or huge
        # (BLAS speed does not depend on the values, but denormals or NaN could).
        self.h, self.d1 = normal(batch, hidden), normal(batch, hidden)
        self.out, self.d2 = normal(batch, outputs), normal(batch, outputs)


def floor_epoch(x: np.ndarray, ws: FloorWorkspace) -> tuple[float, float]:
    """Wall and CPU seconds for one epoch of the unavoidable products over ``x`` in batches
    of ``ws.batch``."""
    matmul, bs, n = np.matmul, ws.batch, x.shape[0]
    W1, W2, dW1, dW2 = ws.W1, ws.W2, ws.dW1, ws.dW2
    started, cpu = time.perf_counter(), time.process_time()
    for start in range(0, n, bs):
        xb = x[start:start + bs]
        m = xb.shape[0]
        h, out, d1, d2 = ws.h[:m], ws.out[:m], ws.d1[:m], ws.d2[:m]
        matmul(xb, W1, out=h)        # forward, layer 1 (the activation would follow)
        matmul(h, W2, out=out)       # forward, layer 2
        matmul(h.T, d2, out=dW2)     # backward, layer 2 weights
        matmul(d2, W2.T, out=d1)     # backward, into the hidden layer
        matmul(xb.T, d1, out=dW1)    # backward, layer 1 weights (no input gradient)
    return time.perf_counter() - started, time.process_time() - cpu
