"""Minibatch training with evaluation, early stopping and per-epoch callbacks."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence

import numpy as np

from ._validate import check_int, check_number
from .history import EpochRecord, History, StopTraining
from .losses import Loss, accuracy
from .network import Sequential
from .optimizers import Optimizer
from .rng import generator
from .schedules import Constant, Schedule

__all__ = ["Trainer", "Callback"]

Callback = Callable[[EpochRecord, "Trainer"], None]


class Trainer:
    """Trains ``network`` on ``loss`` with ``optimizer``.

    Each epoch draws a fresh permutation of the training rows from a generator derived from
    ``seed``, sets ``optimizer.lr = schedule(epoch)``, and trains on minibatches (the last one
    may be smaller). Every ``eval_every`` epochs, and at the last epoch, it computes the
    validation loss and accuracy in inference mode. With ``patience`` set, training stops after
    that many evaluations without an improvement of more than ``min_delta``. With
    ``restore_best`` the network is returned holding the weights of its best evaluation,
    whatever ended training. A non-finite training loss stops the run at once and marks it
    diverged; it too is rolled back to its best evaluation when it had one. Callbacks run
    after every epoch that did not diverge and may raise ``StopTraining``.
    """

    def __init__(self, network: Sequential, loss: Loss, optimizer: Optimizer, *,
                 schedule: Schedule | None = None, batch_size: int = 64, epochs: int = 10,
                 eval_every: int = 1, patience: int | None = None, min_delta: float = 0.0,
                 restore_best: bool = True, callbacks: Sequence[Callback] = (), seed: int = 0,
                 eval_batch_size: int = 4096):
        self.network = network
        self.loss = loss
        self.optimizer = optimizer
        self.schedule = schedule if schedule is not None else Constant(optimizer.lr)
        self.batch_size = check_int("batch_size", batch_size, low=1)
        self.epochs = check_int("epochs", epochs, low=1)
        self.eval_every = check_int("eval_every", eval_every, low=1)
        self.patience = None if patience is None else check_int("patience", patience, low=1)
        self.min_delta = check_number("min_delta", min_delta, low=0.0)
        self.restore_best = restore_best
        self.callbacks = list(callbacks)
        self.eval_batch_size = check_int("eval_batch_size", eval_batch_size, low=1)
        self._shuffle_rng = generator(seed, "shuffle")

    # -- evaluation ---------------------------------------------------------------------------
    def evaluate(self, x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
        """Mean loss and accuracy over ``(x, y)`` in inference mode."""
        total, correct, n = 0.0, 0.0, x.shape[0]
        if n == 0:
            raise ValueError("cannot evaluate on an empty set")
        for i in range(0, n, self.eval_batch_size):
            xb, yb = x[i:i + self.eval_batch_size], y[i:i + self.eval_batch_size]
            out = self.network.forward(xb, training=False)
            total += self.loss.value(out, yb) * xb.shape[0]
            if out.shape[1] > 1:
                correct += accuracy(out, yb) * xb.shape[0]
        return total / n, (correct / n if self.network.output_dim > 1 else math.nan)

    # -- training -----------------------------------------------------------------------------
    def _check_data(self, x, y, what):
        if x.ndim != 2 or x.shape[1] != self.network.input_dim:
            raise ValueError(f"{what} inputs must have shape (n, {self.network.input_dim}), got {x.shape}")
        if y.shape[0] != x.shape[0]:
            raise ValueError(f"{what} has {x.shape[0]} inputs but {y.shape[0]} targets")
        if x.shape[0] == 0:
            raise ValueError(f"{what} is empty")

    def _train_epoch(self, x, y, xbuf, ybuf) -> float:
        """One pass over shuffled minibatches; returns the mean loss (NaN/inf if it diverged)."""
        net, loss, opt, bs = self.network, self.loss, self.optimizer, self.batch_size
        n = x.shape[0]
        order = self._shuffle_rng.permutation(n)
        total = 0.0
        for start in range(0, n, bs):
            idx = order[start:start + bs]
            m = idx.shape[0]
            # Gather the batch into preallocated buffers: no per-step allocation. The indices
            # come from a permutation, so they are always in range; mode="clip" skips the
            # bounds check for which numpy (mode="raise") gathers into a temporary and then
            # copies it into ``out`` -- a second copy of the batch, ~3x the gather time.
            xb = np.take(x, idx, axis=0, out=xbuf[:m], mode="clip")
            yb = np.take(y, idx, axis=0, out=ybuf[:m], mode="clip")
            out = net.forward(xb, training=True)
            value, grad = loss.value_and_grad(out, yb)
            if not math.isfinite(value):
                return value
            net.backward(grad)
            opt.step()
            total += value * m
        return total / n

    def fit(self, x: np.ndarray, y: np.ndarray, x_val: np.ndarray | None = None,
            y_val: np.ndarray | None = None) -> History:
        self._check_data(x, y, "training data")
        has_val = x_val is not None and y_val is not None
        if has_val:
            self._check_data(x_val, y_val, "validation data")
        elif self.patience is not None:
            raise ValueError("early stopping (patience) needs validation data")
        x = np.ascontiguousarray(x, dtype=self.network.dtype)
        bs = min(self.batch_size, x.shape[0])
        xbuf = np.empty((bs, x.shape[1]), dtype=x.dtype)
        ybuf = np.empty((bs, *y.shape[1:]), dtype=y.dtype)

        history = History()
        best = _BestCheckpoint(self.network, self.patience, self.min_delta)
        # Overflow in a diverging run is an expected outcome, recorded as such: keep the
        # terminal free of numpy's warnings.
        with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
            for epoch in range(1, self.epochs + 1):
                record, stop = self._epoch(epoch, x, y, xbuf, ybuf, history)
                if stop is None and has_val and (epoch % self.eval_every == 0
                                                 or epoch == self.epochs):
                    record.val_loss, record.val_accuracy = self.evaluate(x_val, y_val)
                    if best.update(epoch, record.val_loss):
                        stop = "early_stopping"
                history.records.append(record)
                if not history.diverged:
                    stop = self._run_callbacks(record) or stop
                if stop:
                    history.stop_reason = stop
                    break
        history.best_epoch, history.best_val_loss = best.epoch, best.val_loss
        if self.restore_best:
            best.restore()  # a diverged run too: it is scored on its last good weights
        return history

    def _epoch(self, epoch, x, y, xbuf, ybuf, history):
        """Train one epoch; a non-finite loss marks the run diverged and stops it."""
        started = time.perf_counter()
        lr = self.schedule(epoch - 1)
        self.optimizer.lr = lr
        train_loss = self._train_epoch(x, y, xbuf, ybuf)
        record = EpochRecord(epoch=epoch, train_loss=train_loss, lr=lr, seconds=0.0)
        stop = None
        if not math.isfinite(train_loss):
            history.diverged = True
            stop = f"diverged: non-finite training loss in epoch {epoch}"
        record.seconds = time.perf_counter() - started
        return record, stop

    def _run_callbacks(self, record) -> str | None:
        stop = None
        for callback in self.callbacks:
            try:
                callback(record, self)
            except StopTraining as exc:
                stop = exc.reason
        return stop


class _BestCheckpoint:
    """The lowest finite validation loss seen, a copy of the weights that gave it, and the
    patience count: ``update`` returns True once ``patience`` evaluations in a row failed to
    improve on the best by more than ``min_delta``."""

    def __init__(self, network: Sequential, patience: int | None, min_delta: float):
        self.network, self.patience, self.min_delta = network, patience, min_delta
        self.epoch: int | None = None
        self.val_loss = math.nan
        self.state: dict[str, np.ndarray] | None = None
        self.waited = 0

    def update(self, epoch: int, val_loss: float) -> bool:
        if math.isfinite(val_loss) and (self.epoch is None
                                        or val_loss < self.val_loss - self.min_delta):
            self.epoch, self.val_loss, self.waited = epoch, val_loss, 0
            self.state = self.network.state_dict()
            return False
        self.waited += 1
        return self.patience is not None and self.waited >= self.patience

    def restore(self) -> None:
        if self.state is not None:
            self.network.load_state_dict(self.state)
