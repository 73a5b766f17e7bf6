"""A trainable array and its gradient, kept side by side."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["Parameter"]


@dataclass(eq=False)
class Parameter:
    """``value`` is updated in place by optimizers; ``grad`` is overwritten by each backward pass.

    ``decay`` marks the parameters that L2 weight decay applies to (weights, not biases or
    batch-norm scale and shift).

    In a ``Sequential``, ``value`` and ``grad`` are views into the network's flat arrays
    (``nn_core.flat``): write into them (``p.value[...] = w``). Rebinding them to other
    arrays still works, but the optimizer then steps parameter by parameter.
    """

    name: str
    value: np.ndarray
    grad: np.ndarray = field(init=False)
    decay: bool = False

    def __post_init__(self) -> None:
        self.grad = np.zeros_like(self.value)

    @property
    def shape(self) -> tuple[int, ...]:
        return self.value.shape

    def __repr__(self) -> str:
        return f"Parameter({self.name!r}, shape={self.value.shape}, dtype={self.value.dtype})"
