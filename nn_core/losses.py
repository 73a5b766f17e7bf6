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

    def value_and_grad(self, pred, target):
        n = pred.shape[0]
        if pred.ndim == 2 and pred.shape[1] == 1:
            t = _dense_targets(pred, target)
            value = float(np.sum(np.logaddexp(0.0, pred) - t * pred)) / n
            sig = 0.5 * (1.0 + np.tanh(0.5 * pred))
            return value, (sig - t) / n
        shifted = pred - pred.max(axis=1, keepdims=True)
        exp = np.exp(shifted)
        sums = exp.sum(axis=1, keepdims=True)
        log_p = shifted - np.log(sums)
        exp /= sums  # now the softmax probabilities
        if target.ndim == 1 and pred.ndim == 2:
            if target.shape[0] != n:
                raise ValueError(f"{target.shape[0]} labels for {n} predictions")
            rows = np.arange(n)
            value = -float(log_p[rows, target].sum()) / n
            exp[rows, target] -= 1.0
            exp *= 1.0 / n
            return value, exp
        t = _dense_targets(pred, target)
        value = -float(np.vdot(t, log_p)) / n
        grad = exp * t.sum(axis=1, keepdims=True)
        grad -= t
        grad *= 1.0 / n
        return value, grad


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
