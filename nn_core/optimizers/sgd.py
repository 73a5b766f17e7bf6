"""Stochastic gradient descent, optionally with classical or Nesterov momentum."""

from __future__ import annotations

import numpy as np

from .._validate import check_number
from .base import Optimizer

__all__ = ["SGD"]


class SGD(Optimizer):
    """Plain: ``p <- p - lr g``.

    Classical momentum (the notebook's form, velocity in parameter units):
    ``v <- mu v + lr g``; ``p <- p - v``.

    Nesterov momentum (the same velocity, looking one step ahead):
    ``v <- mu v + lr g``; ``p <- p - (mu v + lr g)``.
    """

    def __init__(self, params, lr: float = 0.01, momentum: float = 0.0, nesterov: bool = False,
                 weight_decay: float = 0.0):
        super().__init__(params, lr, weight_decay)
        self.momentum = check_number("momentum", momentum, low=0.0, high=1.0, high_inclusive=False)
        if nesterov and self.momentum == 0.0:
            raise ValueError("nesterov=True needs a momentum in (0, 1), got momentum=0")
        self.nesterov = bool(nesterov)
        # Scratch for lr * g (per parameter, or one for the flat block: index FLAT), made on
        # first use, so a step allocates nothing weight-sized.
        self._scratch: dict[int, np.ndarray] = {}

    def _update(self, i, value, grad):
        scratch = self._scratch.get(i)
        if scratch is None:
            scratch = self._scratch[i] = np.empty_like(value)
        if self.momentum == 0.0:
            step = np.multiply(grad, self.lr, out=scratch)
            value -= step
            return
        v = self._slot(i, "velocity")
        lr_g = np.multiply(grad, self.lr, out=scratch)
        v *= self.momentum
        v += lr_g
        if self.nesterov:
            value -= lr_g
            lr_g[...] = v
            lr_g *= self.momentum
            value -= lr_g
        else:
            value -= v

    def __repr__(self):
        return (f"SGD(lr={self.lr:g}, momentum={self.momentum:g}, nesterov={self.nesterov}, "
                f"weight_decay={self.weight_decay:g})")
