"""Central finite differences and the relative-error measure shared by the gradient tests.

All gradient checks run in float64: ``eps = 1e-6`` central differences have a truncation
error of order ``eps**2`` and a rounding error of order ``1e-16 / eps``, both far below the
``1e-7`` tolerance for gradients of order one.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

EPS = 1e-6
TOL = 1e-7
TINY = 1e-300


def rel_error(analytic, numeric, tiny: float = TINY) -> float:
    """Elementwise ``|a - b| / max(|a| + |b|, tiny)``, maximised over all elements."""
    a = np.asarray(analytic, dtype=np.float64)
    b = np.asarray(numeric, dtype=np.float64)
    if a.shape != b.shape:
        raise AssertionError(f"gradient shapes differ: {a.shape} vs {b.shape}")
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), tiny)))


def numerical_grad(f: Callable[[], float], x: np.ndarray, eps: float = EPS) -> np.ndarray:
    """``d f() / d x`` by central differences, perturbing ``x`` in place (and restoring it)."""
    if x.dtype != np.float64:
        raise AssertionError(f"finite differences need float64 arrays, got {x.dtype}")
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        old = x[idx]
        x[idx] = old + eps
        f_plus = f()
        x[idx] = old - eps
        f_minus = f()
        x[idx] = old
        grad[idx] = (f_plus - f_minus) / (2.0 * eps)
    return grad


def _no_op() -> None:
    return None


def layer_objective(layer, x, weights, training=True, before=_no_op) -> Callable[[], float]:
    """The scalar ``F = sum(layer(x) * weights)`` as a function of the current arrays."""
    def f() -> float:
        before()
        return float(np.sum(layer.forward(x, training) * weights))
    return f


def layer_gradients(layer, x, weights, training=True, before=_no_op):
    """Analytic ``dF/dx`` (``None`` if the layer skips it) and ``{name: dF/dparam}``."""
    before()
    layer.forward(x, training)
    dx = layer.backward(weights.copy())
    return dx, {p.name: p.grad.copy() for p in layer.parameters()}


def away_from_zero(rng: np.random.Generator, shape, low: float = 0.2, high: float = 2.0):
    """Random values with ``low <= |v| <= high`` and random signs (no kinks near 0)."""
    return rng.uniform(low, high, shape) * rng.choice([-1.0, 1.0], shape)
