"""Optuna searches: equal-budget tuning per arm, resumable, on local or shared storages."""

from .outcome import ArmOutcome, SearchOutcome, tuned_experiment
from .run import run_search, study_name_for
from .storage import DEFAULT_STORAGE, open_storage
from .worker import run_worker

__all__ = ["ArmOutcome", "SearchOutcome", "run_search", "study_name_for", "tuned_experiment", "DEFAULT_STORAGE",
           "open_storage", "run_worker"]
