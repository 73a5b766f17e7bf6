"""Inverted dropout."""

from __future__ import annotations

import numpy as np

from .._validate import check_number
from .base import Layer

__all__ = ["Dropout"]


class Dropout(Layer):
    """Keeps each unit with probability ``keep`` during training and scales it by ``1/keep``,
    so the expected activation is unchanged and inference is the identity."""

    random_use = "dropout"

    def __init__(self, keep: float = 0.8):
        self.keep = check_number("dropout keep probability", keep, low=0.0, high=1.0,
                                 low_inclusive=False)
        self.rng: np.random.Generator | None = None

    def build(self, input_dim, rng, dtype):
        self.rng = rng
        return input_dim

    def forward(self, x, training=False):
        if not training or self.keep == 1.0:
            self._mask = None
            return x
        mask = self.rng.random(x.shape, dtype=np.float32 if x.dtype == np.float32 else np.float64)
        mask = (mask < self.keep).astype(x.dtype)
        mask *= 1.0 / self.keep
        self._mask = mask
        return x * mask

    def backward(self, grad):
        return grad if self._mask is None else grad * self._mask

    def __repr__(self):
        return f"Dropout(keep={self.keep})"
