"""What a search found per arm, and the experiment re-seeded from it."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from experiments import Arm, Experiment, RunConfig

__all__ = ["ArmOutcome", "SearchOutcome", "tuned_experiment"]


@dataclass
class ArmOutcome:
    """What tuning one arm gave."""

    arm: Arm
    study: str                  # the Optuna study's name
    arm_run: str                # the arm's MLflow run
    best_trial: object | None   # optuna FrozenTrial; None when no trial completed
    best_config: RunConfig | None
    counted: int                # trials counted against the budget
    states: dict[str, int]      # COMPLETE / PRUNED / FAIL -> trials
    seconds: float              # the counted trials' durations, summed


SearchOutcome = dict[str, ArmOutcome]  # arm name -> its outcome, in the experiment's order


def tuned_experiment(experiment: Experiment, outcome: SearchOutcome) -> Experiment:
    """The experiment with each arm's best configuration (arms with no completed trial dropped)."""
    arms = [dataclasses.replace(a, config=outcome[a.name].best_config,
                                description=f"{a.description} (tuned)")
            for a in experiment.arms
            if a.name in outcome and outcome[a.name].best_config is not None]
    if not arms:
        raise ValueError("no arm has a completed trial to re-seed")
    return dataclasses.replace(experiment.restrict(arms), search_spaces={},
                               description=experiment.description + " Tuned per arm.")
