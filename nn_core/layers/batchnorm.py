"""Batch normalisation over the batch axis."""

from __future__ import annotations

import numpy as np

from .._validate import check_number
from ..parameter import Parameter
from .base import Layer

__all__ = ["BatchNorm"]


class BatchNorm(Layer):
    """``y = gamma * (x - mu) / sqrt(var + eps) + beta`` (Ioffe & Szegedy, 2015).

    Training uses the batch mean and (biased) variance and updates the running statistics,
    ``r <- momentum * r + (1 - momentum) * batch``; inference uses the running statistics.
    With ``xh`` the normalised input and ``g = dy * gamma``, the input gradient is
    ``dx = (g - mean(g) - xh * mean(g * xh)) / sqrt(var + eps)``; ``dgamma = sum(dy * xh)``,
    ``dbeta = sum(dy)``. In inference mode the map is affine and ``dx = g / sqrt(var + eps)``.
    """

    def __init__(self, momentum: float = 0.9, eps: float = 1e-5):
        self.momentum = check_number("BatchNorm momentum", momentum, low=0.0, high=1.0)
        self.eps = check_number("BatchNorm eps", eps, low=0.0, low_inclusive=False)

    def build(self, input_dim, rng, dtype):
        self.gamma = Parameter("gamma", np.ones(input_dim, dtype=dtype))
        self.beta = Parameter("beta", np.zeros(input_dim, dtype=dtype))
        self.running_mean = np.zeros(input_dim, dtype=dtype)
        self.running_var = np.ones(input_dim, dtype=dtype)
        return input_dim

    def forward(self, x, training=False):
        if training:
            mean = x.mean(axis=0)
            var = x.var(axis=0)
            m = self.momentum
            self.running_mean *= m
            self.running_mean += (1.0 - m) * mean
            self.running_var *= m
            self.running_var += (1.0 - m) * var
        else:
            mean, var = self.running_mean, self.running_var
        self._training = training
        self._inv_std = 1.0 / np.sqrt(var + self.eps)
        self._xh = (x - mean) * self._inv_std
        return self._xh * self.gamma.value + self.beta.value

    def backward(self, grad):
        xh = self._xh
        np.sum(grad * xh, axis=0, out=self.gamma.grad)
        np.sum(grad, axis=0, out=self.beta.grad)
        if not self.needs_input_grad:
            return None
        g = grad * self.gamma.value
        if not self._training:  # fixed statistics: an affine map
            return g * self._inv_std
        return (g - g.mean(axis=0) - xh * (g * xh).mean(axis=0)) * self._inv_std

    def parameters(self):
        return [self.gamma, self.beta]

    def buffers(self):
        return {"running_mean": self.running_mean, "running_var": self.running_var}

    def __repr__(self):
        return f"BatchNorm(momentum={self.momentum}, eps={self.eps})"
