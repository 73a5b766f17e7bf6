"""One run's fully resolved configuration, written as an experiment file.

Every field is spelled out (none left to RunConfig's defaults, which may change), so
``bench run config.toml`` trains the same network on the same data with the same random
streams: those derive from the experiment's name and the seed, both in the file.
"""

from __future__ import annotations

import json
import math
from dataclasses import fields

from . import fields as F
from .config import RunConfig

__all__ = ["resolved_toml", "toml_value"]


def toml_value(value) -> str:
    """A TOML literal for a config value (``"none"`` for an unset optional field)."""
    if value is None:
        return json.dumps(F.NONE)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)  # shortest text that reads back as the same double
    if isinstance(value, (tuple, list)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    # TOML basic strings take JSON's escapes for everything a name or description holds
    return json.dumps(str(value), ensure_ascii=False)


def resolved_toml(experiment: str, arm: str, seed: int, config: RunConfig,
                  run_key: str, header: str = "") -> str:
    lines = [
        f"# The fully resolved configuration of run {run_key}.",
        "# `python -m bench run THIS_FILE` trains it again; on the same BLAS kernel every",
        "# number comes out identical (the random streams derive from the name and the seed;",
        "# the data split is seed 0's).",
        *([f"# {line}" for line in header.splitlines()] if header else []),
        f"name = {toml_value(experiment)}",
        f"description = {toml_value(f'replay of {run_key}')}",
        f"seeds = [{int(seed)}]",
        f"replay_of = {toml_value(run_key)}",
        "",
        "[[arm]]",
        f"name = {toml_value(arm)}",
    ]
    lines += [f"{f.name} = {toml_value(getattr(config, f.name))}" for f in fields(config)]
    return "\n".join(lines) + "\n"
