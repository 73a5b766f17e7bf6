"""RMSprop (Hinton, Coursera lecture 6e)."""

from __future__ import annotations

import numpy as np

from .._validate import check_number
from .base import Optimizer

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    """``s <- rho s + (1 - rho) g^2``; ``p <- p - lr g / (sqrt(s) + eps)``."""

    def __init__(self, params, lr: float = 1e-3, rho: float = 0.9, eps: float = 1e-8,
                 weight_decay: float = 0.0):
        super().__init__(params, lr, weight_decay)
        self.rho = check_number("rho", rho, low=0.0, high=1.0, high_inclusive=False)
        self.eps = check_number("eps", eps, low=0.0, low_inclusive=False)

    def _update(self, i, value, grad):
        s = self._slot(i, "square_avg")
        s *= self.rho
        s += (1.0 - self.rho) * grad * grad
        value -= self.lr * grad / (np.sqrt(s) + self.eps)

    def __repr__(self):
        return f"RMSprop(lr={self.lr:g}, rho={self.rho:g}, eps={self.eps:g})"
