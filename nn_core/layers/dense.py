"""Fully connected layer."""

from __future__ import annotations

import numpy as np

from .._validate import check_int
from ..initializers import get_initializer
from ..parameter import Parameter
from .base import Layer

__all__ = ["Dense"]


class Dense(Layer):
    """``y = x W + b`` with ``W`` of shape ``(fan_in, units)``.

    Backward: ``dW = x^T dy``, ``db = sum_rows(dy)``, ``dx = dy W^T``. The gradients are written
    into preallocated arrays, so a training step allocates no weight-sized memory.
    """

    random_use = "init"

    def __init__(self, units: int, init: str = "glorot_normal", bias_init: str = "zeros",
                 std: float | None = None):
        self.units = check_int("Dense units", units, low=1)
        self.init_name = init
        self._init = get_initializer(init, std)
        self._bias_init = get_initializer(bias_init)
        self.W: Parameter | None = None
        self.b: Parameter | None = None

    def build(self, input_dim, rng, dtype):
        self.W = Parameter("W", self._init((input_dim, self.units), rng, dtype), decay=True)
        # Initialisers expect a matrix; a bias is one row of it.
        self.b = Parameter("b", self._bias_init((1, self.units), rng, dtype)[0])
        return self.units

    def forward(self, x, training=False):
        if x.ndim != 2 or x.shape[1] != self.W.value.shape[0]:
            raise ValueError(f"Dense expects input of shape (batch, {self.W.value.shape[0]}), got {x.shape}")
        self._x = x
        y = x @ self.W.value
        y += self.b.value
        return y

    def backward(self, grad):
        np.matmul(self._x.T, grad, out=self.W.grad)
        np.add.reduce(grad, axis=0, out=self.b.grad)  # np.sum without its Python wrapper
        if not self.needs_input_grad:
            return None
        return grad @ self.W.value.T

    def parameters(self):
        return [self.W, self.b]

    def __repr__(self):
        return f"Dense({self.units}, init={self.init_name!r})"
