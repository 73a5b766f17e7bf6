"""Search spaces: what Optuna may vary in an arm, declared without importing Optuna.

``default_space(config)`` tunes only what the arm uses: the learning rate always; momentum
when the arm has momentum; the final/initial learning-rate ratio when it decays; hidden
widths (scaled together); the dropout keep probability when it drops out; the weight scale
when it initialises with ``normal``. Log scales where the quantity is a scale.
"""

from __future__ import annotations

from dataclasses import dataclass

from .config import RunConfig

__all__ = ["Float", "Int", "Choice", "default_space", "apply_values"]


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
    space: dict = {"lr": Float(1e-3, 1.0, log=True)}
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


def apply_values(config: RunConfig, values: dict) -> RunConfig:
    """The arm's config with sampled ``values`` applied (derived knobs resolved here)."""
    changes = {k: v for k, v in values.items() if k not in ("final_lr_ratio", "width_factor")}
    lr = changes.get("lr", config.lr)
    if "final_lr_ratio" in values:
        changes["final_lr"] = lr * values["final_lr_ratio"]
    if "width_factor" in values:
        changes["hidden"] = tuple(max(1, round(h * values["width_factor"])) for h in config.hidden)
    return config.replace(**changes)
