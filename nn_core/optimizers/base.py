"""The optimizer protocol: it receives the parameter list and owns all per-parameter state."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from .._validate import check_number
from ..parameter import Parameter

__all__ = ["Optimizer"]


class Optimizer:
    """Updates ``Parameter.value`` in place from ``Parameter.grad``.

    ``lr`` may be changed between steps (the trainer sets it from the schedule each epoch).
    ``weight_decay`` is L2 regularisation of strength ``lambda`` on the parameters marked
    ``decay`` (weights): it adds ``lambda * w`` to their gradient, the gradient of
    ``(lambda / 2) ||w||^2`` (notebook 003's regularisation strength).
    """

    def __init__(self, params: Iterable[Parameter], lr: float, weight_decay: float = 0.0):
        self.params = list(params)
        if not self.params:
            raise ValueError("optimizer got an empty parameter list")
        if len({id(p) for p in self.params}) != len(self.params):
            raise ValueError("optimizer got the same parameter twice")
        self.lr = lr
        self.weight_decay = check_number("weight_decay", weight_decay, low=0.0)
        self.state: list[dict[str, np.ndarray]] = [{} for _ in self.params]
        self.steps = 0

    @property
    def lr(self) -> float:
        return self._lr

    @lr.setter
    def lr(self, value: float) -> None:
        self._lr = check_number("learning rate", value, low=0.0)

    def _slot(self, i: int, name: str) -> np.ndarray:
        """Per-parameter state array, zero-initialised on first use."""
        slots = self.state[i]
        if name not in slots:
            slots[name] = np.zeros_like(self.params[i].value)
        return slots[name]

    def step(self) -> None:
        self.steps += 1
        for i, p in enumerate(self.params):
            grad = p.grad
            if self.weight_decay and p.decay:
                grad = grad + self.weight_decay * p.value
            self._update(i, p.value, grad)

    def _update(self, i: int, value: np.ndarray, grad: np.ndarray) -> None:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}(lr={self.lr:g}, weight_decay={self.weight_decay:g})"
