"""Optimizers, resolved by name through ``OPTIMIZERS``."""

from __future__ import annotations

from .._validate import check_choice
from .adam import Adam
from .base import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "RMSprop", "Adam", "OPTIMIZERS", "make_optimizer"]

OPTIMIZERS = {"sgd": SGD, "rmsprop": RMSprop, "adam": Adam}


def make_optimizer(name: str, params, **kwargs) -> Optimizer:
    """``make_optimizer("sgd", net.parameters(), lr=0.1, momentum=0.9)``."""
    cls = OPTIMIZERS[check_choice("optimizer", name, OPTIMIZERS)]
    try:
        return cls(params, **kwargs)
    except TypeError as exc:
        raise ValueError(f"bad arguments for optimizer {name!r}: {exc}") from None
