"""Learning-rate schedules: pure functions of the 0-based epoch.

Each schedule is a frozen dataclass, so it is hashable, picklable (for worker processes)
and prints as its own configuration. ``epochs`` is the planned length of the run; the
decaying schedules reach ``final`` exactly at epoch ``epochs - 1`` (the notebook's semantics).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ._validate import check_choice, check_int, check_number

__all__ = ["Schedule", "Constant", "Linear", "Exponential", "Step", "Cosine", "SCHEDULES",
           "make_schedule"]


class Schedule:
    def __call__(self, epoch: int) -> float:
        raise NotImplementedError


def _progress(epoch: int, epochs: int) -> float:
    """Fraction of the run done at ``epoch``: 0 at the first epoch, 1 at the last."""
    return 0.0 if epochs <= 1 else min(epoch, epochs - 1) / (epochs - 1)


@dataclass(frozen=True)
class Constant(Schedule):
    lr: float

    def __post_init__(self):
        check_number("learning rate", self.lr, low=0.0)

    def __call__(self, epoch):
        return self.lr


@dataclass(frozen=True)
class _Decay(Schedule):
    initial: float
    final: float
    epochs: int

    def __post_init__(self):
        check_number("initial learning rate", self.initial, low=0.0)
        check_number("final learning rate", self.final, low=0.0)
        check_int("schedule epochs", self.epochs, low=1)


class Linear(_Decay):
    """``lr_e = initial + (final - initial) e / (epochs - 1)``."""

    def __call__(self, epoch):
        # Weighted form, not ``initial + (final - initial) * p``: at p = 1 that can miss
        # ``final`` by an ulp; this one is exactly ``initial`` at p = 0 and ``final`` at p = 1.
        p = _progress(epoch, self.epochs)
        return (1.0 - p) * self.initial + p * self.final


class Exponential(_Decay):
    """``lr_e = initial (final / initial)^(e / (epochs - 1))``."""

    def __post_init__(self):
        super().__post_init__()
        if self.initial <= 0 or self.final <= 0:
            raise ValueError("exponential decay needs initial and final learning rates > 0, got "
                             f"initial={self.initial}, final={self.final}")

    def __call__(self, epoch):
        # ``initial^(1-p) final^p`` is exact at both ends; ``initial * (final/initial)^p`` can
        # miss ``final`` by an ulp at p = 1.
        p = _progress(epoch, self.epochs)
        return self.initial ** (1.0 - p) * self.final ** p


class Cosine(_Decay):
    """``lr_e = final + (initial - final) (1 + cos(pi e / (epochs - 1))) / 2``."""

    def __call__(self, epoch):
        # Weighted form: exactly ``initial`` at p = 0 (``final + (initial - final)`` can miss
        # it by an ulp) and exactly ``final`` at p = 1, where cos(pi) = -1.
        w = 0.5 * (1.0 + math.cos(math.pi * _progress(epoch, self.epochs)))
        return w * self.initial + (1.0 - w) * self.final


@dataclass(frozen=True)
class Step(Schedule):
    """``lr_e = initial * drop^floor(e / every)``."""

    initial: float
    drop: float = 0.5
    every: int = 10

    def __post_init__(self):
        check_number("initial learning rate", self.initial, low=0.0)
        check_number("step drop factor", self.drop, low=0.0, high=1.0, low_inclusive=False)
        check_int("step every", self.every, low=1)

    def __call__(self, epoch):
        return self.initial * self.drop ** (epoch // self.every)


SCHEDULES = {"constant": Constant, "linear": Linear, "exponential": Exponential,
             "step": Step, "cosine": Cosine}


def make_schedule(name: str, *, lr: float, final_lr: float | None = None, epochs: int = 1,
                  **kwargs) -> Schedule:
    """One vocabulary for configs and search spaces: ``make_schedule("linear", lr=0.15,
    final_lr=0.05, epochs=50)``."""
    check_choice("schedule", name, SCHEDULES)
    if name == "constant":
        return Constant(lr)
    if name == "step":
        return Step(lr, **kwargs)
    if final_lr is None:
        raise ValueError(f"schedule {name!r} needs final_lr")
    return SCHEDULES[name](lr, final_lr, epochs)
