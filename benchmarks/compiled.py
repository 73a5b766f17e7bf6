"""Compiled peers: ``torch.compile`` (CPU inductor) and JAX, on nn_core's network and start.

Each trains one epoch of the 784-89-10 tanh network (softmax cross-entropy, SGD classical
momentum 0.9 at lr 0.1, float32, batch 64) from nn_core's initial weights over nn_core's
first-epoch row order, so the losses compare with nn_core's as well as the times:

* ``torch.compile``: the model compiled by inductor (forward and, through AOTAutograd, its
  backward) with an eager ``optimizer.step``; torch's ``v <- mu v + g; p <- p - lr v`` is
  nn_core's ``v <- mu v + lr g; p <- p - v`` at a constant learning rate;
* ``jax.jit`` step: the whole training step (forward, gradient, momentum update) as one XLA
  program, called once per batch from Python with the batch gathered by numpy;
* ``jax lax.scan`` epoch: the whole epoch (gather and every step) as one XLA program.

Compilation happens before the timed epoch (it is reported on its own): each timed epoch
starts from the same weights with everything already compiled for both batch shapes (the
last batch is smaller). Optional: a peer whose library does not import is skipped, saying
why. XLA gets one thread (``XLA_FLAGS``, set before JAX is imported), like the BLAS.
"""

from __future__ import annotations

import os
import time

import numpy as np

__all__ = ["COMPILED_PEERS", "compiled_epoch", "compare_compiled"]

_XLA_ONE_THREAD = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"


def _clock() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def _since(t0) -> tuple[float, float]:
    t1 = _clock()
    return t1[0] - t0[0], t1[1] - t0[1]


class _TorchCompiled:
    name = "torch.compile"

    def __init__(self, x, y, batch, start, order):
        import torch

        from .core import CLASSES, HIDDEN
        self.torch, self.x, self.y, self.batch = torch, x, y, batch
        self.start, self.order = start, order
        self.model = torch.nn.Sequential(torch.nn.Linear(x.shape[1], HIDDEN), torch.nn.Tanh(),
                                         torch.nn.Linear(HIDDEN, CLASSES))
        self.compiled = torch.compile(self.model, backend="inductor", dynamic=False)
        self.loss_fn = torch.nn.CrossEntropyLoss()
        self.version = torch.__version__

    def _reset(self):
        torch = self.torch
        W1, b1, W2, b2 = self.start
        with torch.no_grad():
            for layer, W, b in ((self.model[0], W1, b1), (self.model[2], W2, b2)):
                layer.weight.copy_(torch.from_numpy(np.ascontiguousarray(W.T)))
                layer.bias.copy_(torch.from_numpy(b))
        return torch.optim.SGD(self.model.parameters(), lr=0.1, momentum=0.9)

    def epoch(self, steps=None):
        torch = self.torch
        opt = self._reset()
        xt, yt = torch.from_numpy(self.x), torch.from_numpy(self.y)
        idx_all = torch.from_numpy(self.order)
        n = self.x.shape[0]
        starts = list(range(0, n, self.batch))
        if steps is not None:  # warm-up: one full batch and the last, smaller one
            starts = starts[:steps] + starts[-1:]
        total = 0.0
        t0 = _clock()
        for s in starts:
            idx = idx_all[s:s + self.batch]
            opt.zero_grad()
            loss = self.loss_fn(self.compiled(xt.index_select(0, idx)), yt.index_select(0, idx))
            loss.backward()
            opt.step()
            total += loss.item() * idx.shape[0]
        seconds = _since(t0)
        m = self.model
        final = [m[0].weight.detach().numpy().T.copy(), m[0].bias.detach().numpy().copy(),
                 m[2].weight.detach().numpy().T.copy(), m[2].bias.detach().numpy().copy()]
        return seconds, total / n, final


def _jax():
    if "jax" not in __import__("sys").modules:
        flags = os.environ.get("XLA_FLAGS", "")
        if "intra_op_parallelism_threads" not in flags:
            os.environ["XLA_FLAGS"] = f"{flags} {_XLA_ONE_THREAD}".strip()
    import jax
    import jax.numpy as jnp
    return jax, jnp


def _jax_step(jax, jnp):
    def loss(params, xb, yb):
        W1, b1, W2, b2 = params
        z = jnp.tanh(xb @ W1 + b1) @ W2 + b2
        logp = jax.nn.log_softmax(z)
        return -jnp.mean(jnp.take_along_axis(logp, yb[:, None], axis=1))

    def step(params, vel, xb, yb):
        value, grads = jax.value_and_grad(loss)(params, xb, yb)
        vel = tuple(0.9 * v + 0.1 * g for v, g in zip(vel, grads))
        params = tuple(p - v for p, v in zip(params, vel))
        return params, vel, value
    return step


class _JaxStep:
    name = "jax.jit step"

    def __init__(self, x, y, batch, start, order):
        jax, jnp = _jax()
        y = y.astype(np.int32)  # JAX's default integer width (no 64-bit mode)
        self.jax, self.jnp, self.x, self.y, self.batch = jax, jnp, x, y, batch
        self.start, self.order = start, order
        self.step = jax.jit(_jax_step(jax, jnp))
        self.version = jax.__version__

    def _init(self):
        jnp = self.jnp
        params = tuple(jnp.asarray(a) for a in self.start)
        return params, tuple(jnp.zeros_like(p) for p in params)

    def epoch(self, steps=None):
        params, vel = self._init()
        n, bs, x, y, order = self.x.shape[0], self.batch, self.x, self.y, self.order
        starts = list(range(0, n, bs))
        if steps is not None:
            starts = starts[:steps] + starts[-1:]
        xbuf, ybuf = np.empty((bs, x.shape[1]), x.dtype), np.empty(bs, y.dtype)
        total = 0.0
        t0 = _clock()
        for s in starts:
            idx = order[s:s + bs]
            m = idx.shape[0]
            xb = np.take(x, idx, axis=0, out=xbuf[:m], mode="clip")
            yb = np.take(y, idx, axis=0, out=ybuf[:m], mode="clip")
            params, vel, value = self.step(params, vel, xb, yb)
            total += float(value) * m  # reads each step's loss, as nn_core does
        seconds = _since(t0)
        return seconds, total / n, [np.asarray(p) for p in params]


class _JaxScan(_JaxStep):
    name = "jax lax.scan epoch"

    def __init__(self, x, y, batch, start, order):
        super().__init__(x, y, batch, start, order)
        jax, jnp = self.jax, self.jnp
        step = _jax_step(jax, jnp)
        full = (x.shape[0] // batch) * batch
        y = self.y

        def epoch_fn(params, vel, x_all, y_all, order_all):
            idx = order_all[:full].reshape(-1, batch)

            def body(carry, rows):
                p, v = carry
                p, v, value = step(p, v, x_all[rows], y_all[rows])
                return (p, v), value
            (params, vel), values = jax.lax.scan(body, (params, vel), idx)
            return params, vel, jnp.sum(values) * batch
        self.scan = jax.jit(epoch_fn)
        self.full = full
        self.device = [jnp.asarray(a) for a in (x, y, order)]

    def epoch(self, steps=None):
        params, vel = self._init()
        x_all, y_all, order_all = self.device
        n, tail = self.x.shape[0], self.order[self.full:]
        t0 = _clock()
        params, vel, total = self.scan(params, vel, x_all, y_all, order_all)
        total = float(total)
        if tail.size:  # the last, smaller batch: the jitted step
            params, vel, value = self.step(params, vel, self.x[tail], self.y[tail])
            total += float(value) * tail.size
        seconds = _since(t0)
        return seconds, total / n, [np.asarray(p) for p in params]


COMPILED_PEERS = {"torch.compile": _TorchCompiled, "jax.jit step": _JaxStep,
                  "jax lax.scan epoch": _JaxScan}


def compiled_epoch(name, x, y, batch, start, order):
    """A ready peer (compiled, warmed up): ``(peer, compile_seconds)``, or raises
    ImportError when its library is missing."""
    t0 = _clock()
    peer = COMPILED_PEERS[name](x, y, batch, start, order)
    peer.epoch(steps=2)  # compiles both batch shapes
    return peer, _since(t0)


def _losses(x, y, batch, names) -> dict:
    """Epoch-mean and final loss of nn_core and each compiled peer from nn_core's start."""
    from .peerloss import _nn_core, cross_entropy
    start, order, loss, final = _nn_core(x, y, batch)
    out = {"initial_loss": cross_entropy(x, y, *start),
           "nn_core": {"epoch_loss": loss, "final_loss": cross_entropy(x, y, *final)}}
    peers = {}
    for name in names:
        try:
            peer, compile_s = compiled_epoch(name, x, y, batch, start, order)
        except ImportError as exc:
            out[name] = {"skipped": f"not importable ({exc})"}
            continue
        _, epoch_loss, weights = peer.epoch()
        out[name] = {"epoch_loss": epoch_loss, "final_loss": cross_entropy(x, y, *weights),
                     "compile_s": compile_s[0], "compile_cpu_s": compile_s[1],
                     "version": peer.version}
        peers[name] = peer
    return out, peers


def compare_compiled(x, y, batch: int = 64, repeats: int = 3, digits=None) -> dict:
    """Interleaved CPU seconds per epoch of nn_core and each compiled peer (rotating order,
    one BLAS and one XLA thread), and their losses from nn_core's start on ``x`` and, if
    given, on ``digits`` (real data: ``(x, y)``)."""
    import statistics

    from .core import nn_core_epoch
    from .machine import blas_info, blas_limits, torch_threads
    out = {"batch": batch, "repeats": repeats, "timing": {}, "losses": {}}
    with blas_limits(1), torch_threads(1):
        out["blas"] = blas_info()
        losses, peers = _losses(x, y, batch, list(COMPILED_PEERS))
        out["losses"]["benchmark data (random labels)"] = losses
        runners = {"nn_core": lambda: nn_core_epoch(x, y, batch)}
        runners.update({n: (lambda p=p: p.epoch()[0]) for n, p in peers.items()})
        names, times = list(runners), {n: [] for n in runners}
        for i in range(repeats):
            for name in names[i % len(names):] + names[:i % len(names)]:
                times[name].append(runners[name]())
        if digits is not None:
            out["losses"]["mnist-5k (real digits, 3,600 rows)"] = _losses(
                *digits, batch, list(peers))[0]
    for name, t in times.items():
        out["timing"][name] = {"median_s": statistics.median(w for w, _ in t),
                               "cpu_median_s": statistics.median(c for _, c in t),
                               "all_cpu_s": [c for _, c in t]}
    own = out["timing"]["nn_core"]["cpu_median_s"]
    for name, t in out["timing"].items():
        t["cpu_vs_nn_core"] = t["cpu_median_s"] / own
    return out
