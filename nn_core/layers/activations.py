"""Element-wise activations; each caches what its derivative needs."""

from __future__ import annotations

import numpy as np

from .._validate import check_number
from .base import Layer

__all__ = ["Identity", "Sigmoid", "Tanh", "ReLU", "ReLU6", "LeakyReLU"]


class Identity(Layer):
    def forward(self, x, training=False):
        return x

    def backward(self, grad):
        return grad


class Sigmoid(Layer):
    """``s(x) = 1 / (1 + e^-x)``, computed as ``(1 + tanh(x/2)) / 2`` so it never overflows;
    ``s' = s (1 - s)``."""

    def forward(self, x, training=False):
        y = np.tanh(x * 0.5)
        y += 1.0
        y *= 0.5
        self._y = y
        return y

    def backward(self, grad):
        return grad * self._y * (1.0 - self._y)


class Tanh(Layer):
    """``tanh' = 1 - tanh^2``."""

    def forward(self, x, training=False):
        self._y = np.tanh(x)
        return self._y

    def backward(self, grad):
        d = self._y * self._y
        np.subtract(1.0, d, out=d)
        d *= grad
        return d


class ReLU(Layer):
    def forward(self, x, training=False):
        self._mask = x > 0
        return x * self._mask

    def backward(self, grad):
        return grad * self._mask


class ReLU6(Layer):
    """``min(max(x, 0), 6)`` (Krizhevsky, 2010; MobileNet's bounded ReLU); its derivative is
    1 on ``0 < x < 6`` and 0 elsewhere."""

    def forward(self, x, training=False):
        self._mask = (x > 0) & (x < 6)
        return np.clip(x, 0, 6)

    def backward(self, grad):
        return grad * self._mask


class LeakyReLU(Layer):
    """``x`` for ``x > 0``, ``alpha x`` otherwise."""

    def __init__(self, alpha: float = 0.01):
        self.alpha = check_number("LeakyReLU alpha", alpha, low=0.0)

    def forward(self, x, training=False):
        self._slope = np.where(x > 0, 1.0, self.alpha).astype(x.dtype, copy=False)
        return x * self._slope

    def backward(self, grad):
        return grad * self._slope

    def __repr__(self):
        return f"LeakyReLU(alpha={self.alpha})"
