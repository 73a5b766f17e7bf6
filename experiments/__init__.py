"""Declarative experiment definitions: configs, arms, and the registry of experiments."""

from __future__ import annotations

from collections.abc import Callable

from nn_core._validate import check_choice

from .ablation import make_ablation
from .batchnorm import make_batchnorm
from .config import RunConfig
from .experiment import Arm, Experiment
from .protocols import PROTOCOLS, Protocol, describe_protocol, get_protocol

__all__ = ["RunConfig", "Arm", "Experiment", "EXPERIMENTS", "get_experiment", "PROTOCOLS",
           "Protocol", "describe_protocol", "get_protocol"]

# name -> factory; factories take keyword options (e.g. depths for batchnorm).
EXPERIMENTS: dict[str, Callable[..., Experiment]] = {
    "ablation": make_ablation,
    "batchnorm": make_batchnorm,
}


def get_experiment(name: str, **options) -> Experiment:
    factory = EXPERIMENTS[check_choice("experiment", name, EXPERIMENTS)]
    return factory(**options)
