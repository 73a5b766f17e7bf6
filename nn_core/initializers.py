"""Weight initialisers, resolved by name so the CLI and search spaces share one vocabulary.

Each initialiser is ``f(shape, rng, dtype) -> array`` for a ``(fan_in, fan_out)`` shape.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from ._validate import check_choice, check_number

__all__ = ["Initializer", "INITIALIZERS", "get_initializer", "fans"]

Initializer = Callable[[tuple[int, ...], np.random.Generator, np.dtype], np.ndarray]


def fans(shape: tuple[int, ...]) -> tuple[int, int]:
    """Fan-in and fan-out of a dense weight matrix of shape ``(fan_in, fan_out)``."""
    if len(shape) != 2:
        raise ValueError(f"initialisers expect a 2-D (fan_in, fan_out) shape, got {shape}")
    return shape[0], shape[1]


def _normal(std: float) -> Initializer:
    def init(shape, rng, dtype):
        # A scale beyond the dtype's range gives inf weights: the run then diverges and is
        # recorded as such, without numpy's overflow warning on the cast.
        with np.errstate(over="ignore"):
            return (rng.standard_normal(shape) * std).astype(dtype, copy=False)
    return init


def glorot_normal(shape, rng, dtype):
    """N(0, s^2) with s = sqrt(2 / (fan_in + fan_out)) (Glorot & Bengio, 2010)."""
    fan_in, fan_out = fans(shape)
    return _normal(math.sqrt(2.0 / (fan_in + fan_out)))(shape, rng, dtype)


def glorot_uniform(shape, rng, dtype):
    """U(-a, a) with a = sqrt(6 / (fan_in + fan_out)), the same variance as glorot_normal."""
    fan_in, fan_out = fans(shape)
    limit = math.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, shape).astype(dtype, copy=False)


def he_normal(shape, rng, dtype):
    """N(0, s^2) with s = sqrt(2 / fan_in), for ReLU layers (He et al., 2015)."""
    fan_in, _ = fans(shape)
    return _normal(math.sqrt(2.0 / fan_in))(shape, rng, dtype)


def he_uniform(shape, rng, dtype):
    """U(-a, a) with a = sqrt(6 / fan_in)."""
    fan_in, _ = fans(shape)
    limit = math.sqrt(6.0 / fan_in)
    return rng.uniform(-limit, limit, shape).astype(dtype, copy=False)


def zeros(shape, rng, dtype):
    return np.zeros(shape, dtype=dtype)


INITIALIZERS: dict[str, Initializer] = {
    "unit_normal": _normal(1.0),  # notebook 000's default: plain standard-normal weights
    "glorot_normal": glorot_normal,
    "glorot_uniform": glorot_uniform,
    "he_normal": he_normal,
    "he_uniform": he_uniform,
    "zeros": zeros,
}


def get_initializer(name: str | Callable, std: float | None = None) -> Initializer:
    """Resolve ``name``; ``"normal"`` takes a standard deviation (notebook 003's weight scale).

    ``get_initializer("normal", std=5e-2)`` or the compact form ``get_initializer("normal:0.05")``.
    """
    if callable(name):
        return name
    if isinstance(name, str) and ":" in name:
        name, arg = name.split(":", 1)
        try:
            std = float(arg)
        except ValueError:
            raise ValueError(f"initialiser argument must be a number, got {arg!r} in {name}:{arg}") from None
    if name == "normal":
        if std is None:
            raise ValueError("initialiser 'normal' needs a standard deviation, e.g. 'normal:0.05'")
        return _normal(check_number("normal initialiser std", std, low=0.0, low_inclusive=False))
    check_choice("initialiser", name, [*INITIALIZERS, "normal"])
    if std is not None:
        raise ValueError(f"initialiser {name!r} takes no standard deviation (only 'normal' does)")
    return INITIALIZERS[name]
