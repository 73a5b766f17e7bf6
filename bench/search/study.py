"""Creating and re-opening one arm's study; its settings live in the study itself.

Everything a worker needs (experiment, arm config, tracking target, budget, sampler, pruner)
is stored as study user attributes, so ``bench worker --study NAME --storage URL`` can join
from another machine with nothing else.
"""

from __future__ import annotations

import dataclasses

from experiments import Arm, RunConfig
from experiments.search_space import Choice, Float, Int, default_space
from nn_core.rng import seed_sequence

from .objective import TrialContext

__all__ = ["SAMPLERS", "PRUNERS", "make_sampler", "make_pruner", "study_settings",
           "context_from_settings", "space_from_json", "space_to_json"]

SAMPLERS = ("tpe", "random", "grid")  # plus "zipped" (enqueued pairs) for lr-grid
PRUNERS = ("median", "hyperband", "none")
SETTINGS_ATTR = "bench_settings"


def space_to_json(space: dict) -> dict:
    return {k: {"kind": type(d).__name__, **dataclasses.asdict(d)} for k, d in space.items()}


def space_from_json(data: dict) -> dict:
    kinds = {"Float": Float, "Int": Int, "Choice": Choice}
    out = {}
    for name, d in data.items():
        d = dict(d)
        kind = kinds[d.pop("kind")]
        if kind is Choice:
            d["choices"] = tuple(d["choices"])
        out[name] = kind(**d)
    return out


def _grid_values(dist, points: int = 5) -> list:
    import numpy as np
    if isinstance(dist, Choice):
        return list(dist.choices)
    if dist.log:
        values = np.geomspace(dist.low, dist.high, points)
    else:
        values = np.linspace(dist.low, dist.high, points)
    if isinstance(dist, Int):
        return sorted({int(round(v)) for v in values})
    return [float(v) for v in values]


def make_sampler(settings: dict, worker: int | str = 0, history: int = 0):
    """The study's sampler for one worker. ``history`` (trials in the study when the worker
    starts) is part of the seed: a resumed search must not draw the same values again."""
    import optuna
    seed = int(seed_sequence(settings["seed"], settings["study_name"], "sampler", worker,
                             history).generate_state(1)[0])
    name = settings["sampler"]
    if name == "tpe":
        return optuna.samplers.TPESampler(seed=seed)
    if name in ("random", "zipped"):  # zipped: every trial's values were enqueued
        return optuna.samplers.RandomSampler(seed=seed)
    if name == "grid":
        grid = ({k: v for k, v in (settings.get("grid") or {}).items() if k != "pairs"}
                or {k: _grid_values(d) for k, d in space_from_json(settings["space"]).items()})
        # Trial k runs cell k of the sampler's shuffled grid: every worker must shuffle alike.
        seed = int(seed_sequence(settings["seed"], settings["study_name"], "grid")
                   .generate_state(1)[0])
        return optuna.samplers.GridSampler(grid, seed=seed)
    raise ValueError(f"unknown sampler {name!r}; valid: {', '.join(SAMPLERS)}")


def make_pruner(settings: dict):
    import optuna
    name = settings["pruner"]
    if name.startswith("custom:"):
        raise ValueError(f"study {settings['study_name']!r} uses a pruner object "
                         f"({name[len('custom:'):]}) that cannot be rebuilt from the storage; "
                         "run its workers from Python with run_worker(..., pruner=...)")
    if name == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=0)
    if name == "hyperband":
        return optuna.pruners.HyperbandPruner(min_resource=1, max_resource=settings["epochs"])
    if name == "none":
        return optuna.pruners.NopPruner()
    raise ValueError(f"unknown pruner {name!r}; valid: {', '.join(PRUNERS)}")


def study_settings(*, experiment: str, arm: Arm, study_name: str, budget: int, sampler: str,
                   pruner: str, seed: int, tracking_uri: str, mlflow_experiment_id: str,
                   arm_run_id: str, data_seed: int, data_dir: str | None,
                   space: dict | None = None, grid: dict | None = None,
                   objective: str = "val_loss", study_index: int = 0) -> dict:
    space = space if space is not None else default_space(arm.config)
    return {
        "experiment": experiment, "arm": arm.name, "arm_description": arm.description,
        "config": dataclasses.asdict(arm.config), "space": space_to_json(space),
        "study_name": study_name, "budget": budget, "sampler": sampler, "pruner": pruner,
        "seed": seed, "tracking_uri": tracking_uri, "mlflow_experiment_id": mlflow_experiment_id,
        "arm_run_id": arm_run_id, "data_seed": data_seed, "data_dir": data_dir,
        "epochs": arm.config.epochs, "grid": grid, "objective": objective,
        "study_index": study_index,
    }


def context_from_settings(settings: dict) -> TrialContext:
    config = RunConfig(**settings["config"])
    arm = Arm(settings["arm"], config, settings.get("arm_description", ""))
    return TrialContext(
        experiment=settings["experiment"], arm=arm, space=space_from_json(settings["space"]),
        study_name=settings["study_name"], tracking_uri=settings["tracking_uri"],
        mlflow_experiment_id=settings["mlflow_experiment_id"], arm_run_id=settings["arm_run_id"],
        data_seed=settings["data_seed"], data_dir=settings["data_dir"],
        objective=settings.get("objective", "val_loss"), budget=settings["budget"])
