"""Losses over a batch: ``value(pred, target)`` and ``value_and_grad(pred, target)``.

Targets may be integer class labels of shape ``(n,)`` or dense targets shaped like the
predictions (one-hot rows, or probabilities). Both losses average over the batch.
"""

from __future__ import annotations

import numpy as np

from ._validate import check_choice

__all__ = ["Loss", "MeanSquaredError", "SoftmaxCrossEntropy", "LOSSES", "get_loss", "accuracy"]


def _dense_targets(pred: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Targets shaped like ``pred``: integer labels become one-hot rows."""
    if pred.ndim != 2:
        raise ValueError(f"predictions must have shape (batch, outputs), got {pred.shape}")
    if target.ndim == 1:
        if target.shape[0] != pred.shape[0]:
            raise ValueError(f"{target.shape[0]} labels for {pred.shape[0]} predictions")
        if pred.shape[1] == 1:  # one output column: labels are the 0/1 targets themselves
            return target.astype(pred.dtype).reshape(-1, 1)
        out = np.zeros_like(pred)
        out[np.arange(pred.shape[0]), target] = 1.0
        return out
    if target.shape != pred.shape:
        raise ValueError(f"targets of shape {target.shape} do not match predictions {pred.shape}")
    return target


class Loss:
    name = "loss"

    def value(self, pred: np.ndarray, target: np.ndarray) -> float:
        return self.value_and_grad(pred, target)[0]

    def value_and_grad(self, pred: np.ndarray, target: np.ndarray) -> tuple[float, np.ndarray]:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class MeanSquaredError(Loss):
    """``L = (1/n) sum_i ||p_i - t_i||^2``; ``dL/dp = 2 (p - t) / n``."""

    name = "mse"

    def value_and_grad(self, pred, target):
        diff = pred - _dense_targets(pred, target)
        n = pred.shape[0]
        return float(np.vdot(diff, diff)) / n, diff * (2.0 / n)


class SoftmaxCrossEntropy(Loss):
    """Cross-entropy of ``softmax(z)`` against targets ``t``, from logits ``z``:
    ``L = -(1/n) sum_i sum_k t_ik log softmax(z_i)_k`` with ``log softmax(z) = z - logsumexp(z)``,
    so large logits never overflow. ``dL/dz = (softmax(z) sum_k t_k - t) / n``, which is the
    familiar ``(p - t) / n`` when each target row sums to one.

    A single output column is the two-class case with logits ``[z, 0]``, i.e. a sigmoid:
    ``L = (1/n) sum softplus(z) - t z`` and ``dL/dz = (sigmoid(z) - t) / n``.
    """

    name = "softmax_ce"
    # Index arrays for picking each row's label, cached per batch shape (see below).
    _rows = np.arange(0)
    _flat_positions = np.arange(0).reshape(0, 0)

    def value_and_grad(self, pred, target):
        n = pred.shape[0]
        if pred.ndim == 2 and pred.shape[1] == 1:
            t = _dense_targets(pred, target)
            value = float(np.sum(np.logaddexp(0.0, pred) - t * pred)) / n
            sig = 0.5 * (1.0 + np.tanh(0.5 * pred))
            return value, (sig - t) / n
        # np.maximum.reduce / np.add.reduce are what .max() / .sum() call, minus a wrapper.
        shifted = pred - np.maximum.reduce(pred, axis=1, keepdims=True)
        exp = np.exp(shifted)
        sums = np.add.reduce(exp, axis=1, keepdims=True)
        if target.ndim == 1 and pred.ndim == 2:
            if target.shape[0] != n:
                raise ValueError(f"{target.shape[0]} labels for {n} predictions")
            return self._labels_value_and_grad(shifted, exp, sums, target)
        log_p = shifted - np.log(sums)
        exp /= sums  # now the softmax probabilities
        t = _dense_targets(pred, target)
        value = -float(np.vdot(t, log_p)) / n
        grad = exp * t.sum(axis=1, keepdims=True)
        grad -= t
        grad *= 1.0 / n
        return value, grad

    def _labels_value_and_grad(self, shifted, exp, sums, labels):
        """Integer labels: only the log-probability of each row's label is needed, so pick
        those entries instead of building the full ``log_p``. Their flat positions come
        from indexing a cached grid of flat positions with ``[rows, labels]``, which keeps
        numpy's meaning and checks of that index (IndexError out of range, negative labels
        from the end); then a 1-D ``take``/``put`` is several times cheaper per step than
        2-D fancy indexing. ``take``/``put`` address the C-order flat index whatever the
        memory layout. Each picked value is the same float operation on the same operands
        as before, so the numbers are unchanged."""
        n, k = shifted.shape
        if self._flat_positions.shape != (n, k):
            self._flat_positions = np.arange(n * k).reshape(n, k)
            self._rows = np.arange(n)
        at = self._flat_positions[self._rows, labels]
        log_p = shifted.take(at)
        log_p -= np.log(sums).ravel()
        value = -float(np.add.reduce(log_p)) / n
        exp /= sums  # now the softmax probabilities
        exp.put(at, exp.take(at) - 1.0)
        exp *= 1.0 / n
        return value, exp


LOSSES = {"mse": MeanSquaredError, "softmax_ce": SoftmaxCrossEntropy}


def get_loss(name: str | Loss) -> Loss:
    if isinstance(name, Loss):
        return name
    return LOSSES[check_choice("loss", name, LOSSES)]()


def accuracy(pred: np.ndarray, target: np.ndarray) -> float:
    """Share of rows whose arg-max output is the target class."""
    if pred.shape[1] == 1:
        raise ValueError("accuracy of a single-output model needs an explicit threshold; "
                         "use two output columns for classification")
    labels = target if target.ndim == 1 else target.argmax(axis=1)
    return float(np.mean(pred.argmax(axis=1) == labels))
