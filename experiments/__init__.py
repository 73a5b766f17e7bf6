"""Declarative experiment definitions: configs, arms, and the registry of experiments.

Most built-in experiments ship as experiment files (``experiments/builtin/*.toml``), read by
the same loader as a user's own (:mod:`experiments.files`); batchnorm, whose arms depend on
its options, is a Python factory.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from importlib import resources

from nn_core._validate import check_choice

from . import batchnorm
from .config import RunConfig
from .experiment import Arm, Experiment
from .files import ExperimentFile, ExperimentFileError, load_file, parse_text
from .options import Option
from .protocols import PROTOCOLS, Protocol, describe_protocol, get_protocol

__all__ = ["RunConfig", "Arm", "Experiment", "Option", "Entry", "EXPERIMENTS", "get_experiment",
           "PROTOCOLS", "Protocol", "describe_protocol", "get_protocol", "ExperimentFile",
           "ExperimentFileError", "load_file", "builtin_text", "is_file_reference",
           "resolve_experiment"]

BUILTIN_FILES = ("ablation", "optimizers", "activations")


def builtin_text(name: str) -> str:
    """The text of a built-in experiment file (``ablation``: the notebook ladder)."""
    return resources.files(__package__).joinpath("builtin", f"{name}.toml").read_text("utf-8")


def _builtin(name: str) -> Experiment:
    return parse_text(builtin_text(name), f"<built-in {name}.toml>").experiment


@dataclass(frozen=True)
class Entry:
    """A registered experiment: its factory and the keyword options the factory accepts."""

    factory: Callable[..., Experiment]
    options: tuple[Option, ...] = ()


EXPERIMENTS: dict[str, Entry] = {
    "ablation": Entry(partial(_builtin, "ablation")),
    "optimizers": Entry(partial(_builtin, "optimizers")),
    "activations": Entry(partial(_builtin, "activations")),
    "batchnorm": Entry(batchnorm.make_batchnorm, batchnorm.OPTIONS),
}


def get_experiment(name: str, **options) -> Experiment:
    entry = EXPERIMENTS[check_choice("experiment", name, EXPERIMENTS)]
    return entry.factory(**options)


def is_file_reference(text: str) -> bool:
    """``text`` names an experiment file rather than a registered experiment."""
    return text.endswith(".toml") or os.sep in text or (os.altsep or os.sep) in text


def resolve_experiment(text: str, **options) -> ExperimentFile:
    """A registered experiment by name, or an experiment file by path; a registered one
    comes back as an :class:`ExperimentFile` without seeds or path."""
    if is_file_reference(text):
        if options:
            raise ValueError(f"{', '.join(options)}: options of registered experiments, not of "
                             f"the experiment file {text}")
        return load_file(text)
    if text not in EXPERIMENTS:
        raise ValueError(f"unknown experiment {text!r}; valid: {', '.join(EXPERIMENTS)}, or the "
                         "path of an experiment file (NAME.toml)")
    return ExperimentFile(get_experiment(text, **options), None, "")
