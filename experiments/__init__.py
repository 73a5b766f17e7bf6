"""Declarative experiment definitions: configs, arms, and the registry of experiments."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from nn_core._validate import check_choice

from . import batchnorm
from .ablation import make_ablation
from .config import RunConfig
from .experiment import Arm, Experiment
from .options import Option
from .protocols import PROTOCOLS, Protocol, describe_protocol, get_protocol

__all__ = ["RunConfig", "Arm", "Experiment", "Option", "Entry", "EXPERIMENTS", "get_experiment",
           "PROTOCOLS", "Protocol", "describe_protocol", "get_protocol"]


@dataclass(frozen=True)
class Entry:
    """A registered experiment: its factory and the keyword options the factory accepts."""

    factory: Callable[..., Experiment]
    options: tuple[Option, ...] = ()


EXPERIMENTS: dict[str, Entry] = {
    "ablation": Entry(make_ablation),
    "batchnorm": Entry(batchnorm.make_batchnorm, batchnorm.OPTIONS),
}


def get_experiment(name: str, **options) -> Experiment:
    entry = EXPERIMENTS[check_choice("experiment", name, EXPERIMENTS)]
    return entry.factory(**options)
