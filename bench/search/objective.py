"""The objective one trial runs: train the arm with sampled values, minimise validation loss.

Each trial is an MLflow run nested under its arm's run. Pruned trials end KILLED with a
``pruned`` tag; diverged or failed ones end FAILED with the reason; the study goes on.
"""

from __future__ import annotations

import math
import traceback
from dataclasses import dataclass

from experiments import Arm
from experiments.search_space import Choice, Float, Int, apply_values
from nn_core import StopTraining

from ..runner import RunSpec, execute
from .budget import OUTCOME_ATTR, worker_identity

__all__ = ["TrialContext", "suggest", "make_objective"]


@dataclass(frozen=True)
class TrialContext:
    experiment: str
    arm: Arm
    space: dict
    study_name: str
    tracking_uri: str
    mlflow_experiment_id: str
    arm_run_id: str
    data_seed: int = 0
    data_dir: str | None = None
    objective: str = "val_loss"   # or "train_loss" (notebook 003's lr grid on random labels)


def suggest(trial, space: dict) -> dict:
    values = {}
    for name, dist in space.items():
        if isinstance(dist, Float):
            values[name] = trial.suggest_float(name, dist.low, dist.high, log=dist.log)
        elif isinstance(dist, Int):
            values[name] = trial.suggest_int(name, dist.low, dist.high, log=dist.log)
        elif isinstance(dist, Choice):
            values[name] = trial.suggest_categorical(name, list(dist.choices))
        else:
            raise ValueError(f"unknown distribution for {name!r}: {dist!r}")
    return values


def _pruning_callback(trial):
    def report(record, trainer):
        if math.isnan(record.val_loss):
            return
        trial.report(record.val_loss, record.epoch)
        if trial.should_prune():
            raise StopTraining("pruned")
    return report


def make_objective(ctx: TrialContext, tracker):
    import optuna

    def objective(trial) -> float:
        for key, value in worker_identity().items():
            trial.set_user_attr(key, value)
        values = suggest(trial, ctx.space)
        config = apply_values(ctx.arm.config, values)
        run_id = tracker.start_run(
            ctx.mlflow_experiment_id, f"{ctx.arm.name}/trial-{trial.number}",
            parent_id=ctx.arm_run_id,
            tags={"bench.kind": "trial", "bench.arm": ctx.arm.name, "bench.study": ctx.study_name,
                  "bench.trial_key": f"{ctx.study_name}/{trial.number}",
                  "optuna.trial_number": str(trial.number), "bench.dataset": config.dataset})
        trial.set_user_attr("mlflow_run_id", run_id)
        tracker.log_params(run_id, {**{f"search.{k}": v for k, v in values.items()},
                                    **config.as_params()})
        spec = RunSpec(ctx.experiment, ctx.arm.name, trial.number, config, ctx.data_seed,
                       ctx.data_dir, stream="trial")
        try:
            result = execute(spec, callbacks=[_pruning_callback(trial)], evaluate_test=False)
        except Exception as exc:
            trial.set_user_attr(OUTCOME_ATTR, "error")
            tracker.set_tags(run_id, {"optuna.state": "FAIL", "bench.error":
                                      f"{type(exc).__name__}: {exc}"[:4900],
                                      "bench.traceback": traceback.format_exc()[-4900:]})
            tracker.end(run_id, "FAILED")
            raise
        tracker.record_result(run_id, result)
        if result.stop_reason == "pruned":
            trial.set_user_attr(OUTCOME_ATTR, "pruned")
            tracker.set_tags(run_id, {"optuna.state": "PRUNED", "pruned": "true"})
            tracker.end(run_id, "KILLED")
            raise optuna.TrialPruned(f"pruned at epoch {result.epochs_run}")
        if result.diverged:
            trial.set_user_attr(OUTCOME_ATTR, "diverged")
            tracker.set_tags(run_id, {"optuna.state": "FAIL", "bench.error": result.stop_reason})
            tracker.end(run_id, "FAILED")
            return math.nan  # Optuna records a NaN objective as a failed trial
        value = result.history[-1]["train_loss"] if ctx.objective == "train_loss" else result.val_loss
        finite = math.isfinite(value)
        trial.set_user_attr(OUTCOME_ATTR, "complete" if finite else "diverged")
        tracker.set_tags(run_id, {"optuna.state": "COMPLETE" if finite else "FAIL"})
        tracker.end(run_id, "FINISHED" if finite else "FAILED")
        return value

    return objective
