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

from .. import tags as T
from ..runner import RunSpec, execute
from .budget import FAIL_REASON, OUTCOME_ATTR, claim, worker_identity

__all__ = ["TrialContext", "suggest", "make_objective", "Objective", "OverBudget",
           "VAL_ACCURACY_ATTR"]

VAL_ACCURACY_ATTR = "val_accuracy"  # the trial's validation accuracy at its scored epoch


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
    budget: int | None = None     # trials per study, shared by all its workers


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


def _infrastructure_errors() -> tuple:
    """Errors that are not a trial's outcome: the tracking store stayed unreachable."""
    from .. import tracking
    unavailable = getattr(tracking, "TrackingUnavailable", None)
    return (unavailable,) if unavailable is not None else ()


class OverBudget(Exception):
    """Another worker took the last slot of the budget; this trial does not run or count."""


class Objective:
    """The objective of one arm's study; ``over_budget`` tells the worker the last call ran
    nothing because the budget was already taken."""

    def __init__(self, ctx: TrialContext, tracker):
        self.ctx, self.tracker = ctx, tracker
        self.over_budget = False
        self.fatal = None  # an error that stops the worker (the tracking store is gone)
        self.last_trial_id = None

    def __call__(self, trial) -> float:
        import optuna
        ctx, tracker = self.ctx, self.tracker
        self.over_budget = False
        self.fatal = None
        self.last_trial_id = trial._trial_id
        if ctx.budget is not None and not claim(trial.study, trial.number, ctx.budget):
            self.over_budget = True
            trial.storage.set_trial_system_attr(trial._trial_id, FAIL_REASON,
                                                "over budget: another worker took the last slot")
            raise OverBudget(f"trial {trial.number} is beyond the budget of {ctx.budget}")
        for key, value in worker_identity(trial.number).items():
            trial.set_user_attr(key, value)
        run_id = None
        try:
            values = suggest(trial, ctx.space)
            config = apply_values(ctx.arm.config, values)
            run_id = tracker.start_run(
                ctx.mlflow_experiment_id, f"{ctx.arm.name}/trial-{trial.number}",
                parent_id=ctx.arm_run_id,
                tags={T.KIND: "trial", T.ARM: ctx.arm.name,
                      T.STUDY: ctx.study_name,
                      T.TRIAL_KEY: f"{ctx.study_name}/{trial.number}",
                      "optuna.trial_number": str(trial.number), T.DATASET: config.dataset,
                      **({T.RETRY_OF: str(trial.user_attrs["retry_of"])}
                         if "retry_of" in trial.user_attrs else {})})
            trial.set_user_attr("mlflow_run_id", run_id)
            tracker.log_params(run_id, {**{f"search.{k}": v for k, v in values.items()},
                                        **config.as_params()})
            spec = RunSpec(ctx.experiment, ctx.arm.name, trial.number, config, ctx.data_seed,
                           ctx.data_dir, stream="trial")
            result = execute(spec, callbacks=[_pruning_callback(trial)], evaluate_test=False)
            tracker.record_result(run_id, result)
            # The tuning curves' score (bench.search.tuning_curve), for every counted trial.
            trial.set_user_attr(VAL_ACCURACY_ATTR, float(result.val_accuracy))
            if result.stop_reason == "pruned":
                trial.set_user_attr(OUTCOME_ATTR, "pruned")
                tracker.set_tags(run_id, {"optuna.state": "PRUNED", "pruned": "true"})
                tracker.end(run_id, "KILLED")
                raise optuna.TrialPruned(f"pruned at epoch {result.epochs_run}")
            if result.diverged:
                trial.set_user_attr(OUTCOME_ATTR, "diverged")
                tracker.set_tags(run_id, {"optuna.state": "FAIL",
                                          T.ERROR: result.stop_reason})
                tracker.end(run_id, "FAILED")
                return math.nan  # Optuna records a NaN objective as a failed trial
            value = (result.history[-1]["train_loss"] if ctx.objective == "train_loss"
                     else result.val_loss)
            finite = math.isfinite(value)
            trial.set_user_attr(OUTCOME_ATTR, "complete" if finite else "diverged")
            tags = {"optuna.state": "COMPLETE" if finite else "FAIL"}
            if not finite:
                tags[T.ERROR] = f"non-finite objective ({ctx.objective} = {value})"
            tracker.set_tags(run_id, tags)
            tracker.end(run_id, "FINISHED" if finite else "FAILED")
            return value
        except optuna.TrialPruned:
            raise
        except _infrastructure_errors() as exc:
            # Not this trial's fault: it does not count, is retried, and the worker stops.
            self.fatal = exc
            trial.storage.set_trial_system_attr(trial._trial_id, FAIL_REASON,
                                                f"{type(exc).__name__}: {exc}"[:500])
            raise
        except Exception as exc:
            # An error in this trial (training or tracking) is its outcome: it counts, and
            # the study goes on. Best effort here: the tracking server may be what failed.
            trial.set_user_attr(OUTCOME_ATTR, "error")
            if run_id is not None:
                try:
                    tracker.set_tags(run_id, {"optuna.state": "FAIL", T.ERROR:
                                              f"{type(exc).__name__}: {exc}"[:4900],
                                              T.TRACEBACK: traceback.format_exc()[-4900:]})
                    tracker.end(run_id, "FAILED")
                except Exception:  # noqa: BLE001 - keep the original error
                    pass
            raise


def make_objective(ctx: TrialContext, tracker) -> Objective:
    return Objective(ctx, tracker)
