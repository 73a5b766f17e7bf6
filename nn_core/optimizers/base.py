"""The optimizer protocol: it receives the parameter list and owns all per-parameter state."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from .._validate import check_number
from ..flat import flat_block_of
from ..parameter import Parameter

__all__ = ["Optimizer"]


class Optimizer:
    """Updates ``Parameter.value`` in place from ``Parameter.grad``.

    ``lr`` may be changed between steps (the trainer sets it from the schedule each epoch).
    ``weight_decay`` is L2 regularisation of strength ``lambda`` on the parameters marked
    ``decay`` (weights): it adds ``lambda * w`` to their gradient, the gradient of
    ``(lambda / 2) ||w||^2`` (notebook 003's regularisation strength).

    When the parameters are exactly those of one flat block (``nn_core.flat``: a
    ``Sequential`` stores its parameters that way), a step updates the whole block with a
    few numpy calls; ``state[i]`` then holds views into block-sized state arrays. Otherwise,
    and whenever a parameter's arrays were rebound, it updates parameter by parameter. The
    arithmetic is elementwise, so both give the same bits.
    """

    FLAT = -1  # the index ``_update`` and ``_slot`` get for the whole block

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
        self._block = flat_block_of(self.params)
        self._flat_state: dict[str, np.ndarray] = {}
        self._decayed = None  # scratch for the block's decayed gradient

    @property
    def lr(self) -> float:
        return self._lr

    @lr.setter
    def lr(self, value: float) -> None:
        self._lr = check_number("learning rate", value, low=0.0)

    def _slot(self, i: int, name: str) -> np.ndarray:
        """Per-parameter state array (``i == FLAT``: the block's), zero-initialised on first
        use."""
        if i == self.FLAT:
            flat = self._flat_state.get(name)
            if flat is None:
                flat = self._flat_state[name] = np.zeros_like(self._block.value)
                for j, p in enumerate(self.params):
                    if name in self.state[j]:  # kept from steps taken parameter by parameter
                        self._block.view(flat, p)[...] = self.state[j][name]
                    self.state[j][name] = self._block.view(flat, p)
            return flat
        slots = self.state[i]
        if name not in slots:
            slots[name] = np.zeros_like(self.params[i].value)
        return slots[name]

    def step(self) -> None:
        self.steps += 1
        block = self._block
        if block is not None and block.intact():
            grad = block.grad
            if self.weight_decay and block.n_decay:
                if self._decayed is None:
                    self._decayed = np.empty_like(grad)
                # Weights lead the block: w' = g + lambda * w there, g elsewhere.
                nd, out = block.n_decay, self._decayed
                np.multiply(block.value[:nd], self.weight_decay, out=out[:nd])
                np.add(grad[:nd], out[:nd], out=out[:nd])
                out[nd:] = grad[nd:]
                grad = out
            self._update(self.FLAT, block.value, grad)
            return
        self._block = None  # rebound arrays: parameter by parameter from now on
        for i, p in enumerate(self.params):
            grad = p.grad
            if self.weight_decay and p.decay:
                grad = grad + self.weight_decay * p.value
            self._update(i, p.value, grad)

    def _update(self, i: int, value: np.ndarray, grad: np.ndarray) -> None:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}(lr={self.lr:g}, weight_decay={self.weight_decay:g})"
