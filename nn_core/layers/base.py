"""The layer protocol every building block follows."""

from __future__ import annotations

import numpy as np

from ..parameter import Parameter

__all__ = ["Layer"]


class Layer:
    """A differentiable map ``y = f(x)`` over a batch of row vectors.

    ``build`` allocates parameters once the input width is known and returns the output width.
    ``forward(x, training)`` caches what ``backward`` needs; ``backward(dy)`` fills each
    parameter's ``grad`` and returns ``dL/dx`` (or ``None`` when ``needs_input_grad`` is False,
    which the network sets on its first layer: nothing consumes that gradient).
    """

    needs_input_grad: bool = True
    # The family of random draws this layer makes ("init" for weights, "dropout" for masks);
    # the network numbers layers within a family, so two networks draw the same numbers for
    # their k-th dense layer whatever else they contain (common random numbers across arms).
    random_use: str | None = None

    def build(self, input_dim: int, rng: np.random.Generator, dtype: np.dtype) -> int:
        return input_dim

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        raise NotImplementedError

    def backward(self, grad: np.ndarray) -> np.ndarray | None:
        raise NotImplementedError

    def parameters(self) -> list[Parameter]:
        return []

    def buffers(self) -> dict[str, np.ndarray]:
        """Non-trainable state saved with the weights (e.g. batch-norm running statistics)."""
        return {}

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"
