"""A trainable array and its gradient, kept side by side."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # flat.py imports this module
    from .flat import FlatParameters

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
    # The FlatParameters block whose arrays ``value`` and ``grad`` view, set when one is
    # made (nn_core.flat); None for a parameter on its own arrays.
    _flat: FlatParameters | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.grad = np.zeros_like(self.value)

    @property
    def shape(self) -> tuple[int, ...]:
        return self.value.shape

    def __repr__(self) -> str:
        return f"Parameter({self.name!r}, shape={self.value.shape}, dtype={self.value.dtype})"
