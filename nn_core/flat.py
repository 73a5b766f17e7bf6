"""One contiguous array per kind (values, gradients) for all parameters of a network.

Each ``Parameter.value`` and ``Parameter.grad`` becomes a reshaped view into the block's
``value`` and ``grad`` arrays, so an optimizer updates every parameter with a few numpy calls
over one array instead of a few calls per parameter. Elementwise arithmetic gives the same
bits either way. Parameters with ``decay`` (weights) come first, so weight decay applies to
the leading ``n_decay`` elements.

Nothing relies on the block being there: an optimizer uses it only while every parameter
still holds its original views (see :meth:`FlatParameters.intact`), and otherwise updates
parameter by parameter as before.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .parameter import Parameter

__all__ = ["FlatParameters", "flat_block_of"]


class FlatParameters:
    """Storage shared by ``params`` (all of one dtype); see the module docstring."""

    def __init__(self, params: Sequence[Parameter]):
        params = list(params)
        dtypes = {p.value.dtype for p in params}
        if not params or len(dtypes) != 1:
            raise ValueError("flat storage needs a non-empty list of parameters of one dtype")
        ordered = [p for p in params if p.decay] + [p for p in params if not p.decay]
        sizes = [p.value.size for p in ordered]
        total = int(sum(sizes))
        self.value = np.empty(total, dtype=dtypes.pop())
        self.grad = np.empty_like(self.value)
        self.params = ordered
        self.n_decay = int(sum(s for p, s in zip(ordered, sizes) if p.decay))
        self.offsets: dict[int, int] = {}
        offset = 0
        for p, size in zip(ordered, sizes):
            part = slice(offset, offset + size)
            self.value[part] = p.value.ravel()
            self.grad[part] = p.grad.ravel()
            p.value = self.value[part].reshape(p.value.shape)
            p.grad = self.grad[part].reshape(p.grad.shape)
            p._flat = self
            self.offsets[id(p)] = offset
            offset += size
        self._views = [(p, p.value, p.grad) for p in ordered]

    def intact(self) -> bool:
        """True while every parameter still holds the views made here: nobody rebound
        ``value`` or ``grad`` to another array, and this is not a copy (``deepcopy`` or
        pickle give each parameter an array of its own)."""
        value, grad = self.value, self.grad
        return all(p.value is v and p.grad is g and v.base is value and g.base is grad
                   for p, v, g in self._views)

    def view(self, array: np.ndarray, param: Parameter) -> np.ndarray:
        """The part of a block-sized ``array`` (e.g. optimizer state) that belongs to ``param``."""
        offset = self.offsets[id(param)]
        return array[offset:offset + param.value.size].reshape(param.value.shape)


def flat_block_of(params: Sequence[Parameter]) -> FlatParameters | None:
    """The block holding exactly ``params`` (in any order), or None."""
    block = params[0]._flat if params else None
    if block is None or len(params) != len(block.params):
        return None
    if {id(p) for p in params} != set(block.offsets):
        return None
    return block if block.intact() else None
