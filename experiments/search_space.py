"""Search spaces: what Optuna may vary in an arm, declared without importing Optuna.

``default_space(config)`` tunes only what the arm uses: the learning rate always; momentum
when the arm has momentum; the final/initial learning-rate ratio when it decays; hidden
widths (scaled together); the dropout keep probability when it drops out; the weight scale
when it initialises with ``normal``. Log scales where the quantity is a scale.

``lr_space(config)`` tunes the learning rate alone, log-uniform over ``LR_RANGE``, for every
arm (the DeepOBS protocol): every arm then spends its trials on one dimension, so equal
trial counts are equal budgets. A decaying schedule keeps the arm's own final/initial ratio.
``SPACES`` names both for the command line and the study settings.
"""

from __future__ import annotations

from dataclasses import dataclass

from .config import RunConfig

__all__ = ["Float", "Int", "Choice", "default_space", "lr_space", "SPACES", "LR_RANGE",
           "apply_values"]

LR_RANGE = (1e-3, 1.0)  # three decades around the arms' hand-picked 0.1-0.2


@dataclass(frozen=True)
class Float:
    low: float
    high: float
    log: bool = False


@dataclass(frozen=True)
class Int:
    low: int
    high: int
    log: bool = False


@dataclass(frozen=True)
class Choice:
    choices: tuple


def default_space(config: RunConfig) -> dict:
    space: dict = {"lr": Float(*LR_RANGE, log=True)}
    if config.momentum > 0:
        space["momentum"] = Float(0.5, 0.99)
    if config.schedule in ("linear", "exponential", "cosine"):
        space["final_lr_ratio"] = Float(0.01, 1.0, log=True)
    if config.hidden:
        space["width_factor"] = Float(0.5, 2.0, log=True)
    if config.keep_prob < 1.0:
        space["keep_prob"] = Float(0.5, 1.0)
    if config.init == "normal":
        space["weight_scale"] = Float(1e-3, 0.2, log=True)
    return space


def lr_space(config: RunConfig) -> dict:
    """The learning rate alone, whatever else the arm uses."""
    return {"lr": Float(*LR_RANGE, log=True)}


SPACES = {"lr": lr_space, "full": default_space}


def apply_values(config: RunConfig, values: dict) -> RunConfig:
    """The arm's config with sampled ``values`` applied (derived knobs resolved here)."""
    changes = {k: v for k, v in values.items() if k not in ("final_lr_ratio", "width_factor")}
    lr = changes.get("lr", config.lr)
    if "final_lr_ratio" in values:
        changes["final_lr"] = lr * values["final_lr_ratio"]
    elif "lr" in values and config.final_lr is not None:  # keep the arm's decay ratio
        changes["final_lr"] = lr * (config.final_lr / config.lr)
    if "width_factor" in values:
        changes["hidden"] = tuple(max(1, round(h * values["width_factor"])) for h in config.hidden)
    return config.replace(**changes)
