"""Where an invocation's tables and figures go, and what kind of run it was.

``results/<experiment>/<dataset>/`` holds the tables of an experiment's *full default
configuration* only: the committed results, which a demo command must never overwrite. Every
other invocation (``--quick``, a subset of arms, other epochs, seeds, protocol or overrides,
adaptive seeds, a search with another budget) writes to a folder of its own,
``results/<experiment>/<dataset>/runs/<date>-<kind>-<run id>/``. The kind and the folder are
recorded on the parent run (``bench.config_kind``, ``bench.results_subdir``), so ``report``
finds the newest run of a kind and rebuilds its tables where they were first written.
"""

from __future__ import annotations

import datetime as dt
import os

from experiments import Experiment, get_experiment

from . import tags as T

__all__ = ["KINDS", "DEFAULT", "QUICK", "CUSTOM", "run_kind", "is_default_experiment",
           "results_subdir", "subdir_of", "record", "place", "describe", "SMOKE_NOTE"]

DEFAULT, QUICK, CUSTOM = "default", "quick", "custom"
KINDS = (DEFAULT, QUICK, CUSTOM)
SMOKE_NOTE = ("note: a --quick run is a smoke test (3 epochs, 2 seeds): its numbers show the "
              "pipeline works, they are not evidence about the arms")


def is_default_experiment(experiment: Experiment, seeds: list[int], default_seeds: list[int],
                          reference: Experiment | None = None) -> bool:
    """``experiment`` and ``seeds`` are exactly what ``bench run <name>`` runs with no options
    on this data set (or, given a ``reference``, what that one is as declared): same arms,
    same configs, same seeds. Compared by value, so a flag that restates a default
    (``--epochs 50``, ``--protocol full``) still counts as the default."""
    if reference is None:
        try:
            reference = get_experiment(experiment.name)
        except (KeyError, ValueError):  # not a registered experiment (the search's lr-grid)
            return False
    dataset = experiment.arms[0].config.dataset
    reference = reference.map_configs(dataset=dataset)
    return (list(seeds) == list(default_seeds)
            and experiment.arm_configs() == reference.arm_configs())


def run_kind(quick: bool, default: bool) -> str:
    return QUICK if quick else DEFAULT if default else CUSTOM


def results_subdir(experiment: str, dataset: str, kind: str, run_id: str,
                   start_ms: int | None) -> str:
    """The folder under the results root: the experiment's own for the default kind, else
    ``runs/<UTC start>-<kind>-<first 8 of the run id>`` below it (sortable by date, unique)."""
    base = os.path.join(experiment, dataset)
    if kind == DEFAULT:
        return base
    when = dt.datetime.fromtimestamp((start_ms or 0) / 1000, dt.timezone.utc)
    return os.path.join(base, "runs", f"{when:%Y%m%d-%H%M%S}-{kind}-{run_id[:8]}")


def subdir_of(run) -> str:
    """Where a parent run's tables go: its recorded folder; for a run recorded before kinds
    were, a folder of its own (never the committed results, which it may not match)."""
    recorded = run.data.tags.get(T.RESULTS_SUBDIR)
    if recorded:
        return recorded
    return results_subdir(run.data.tags.get(T.EXPERIMENT, "unknown"),
                          run.data.tags.get(T.DATASET, "unknown"), "unrecorded",
                          run.info.run_id, run.info.start_time)


def record(tracker, run_id: str, kind: str, subdir: str) -> None:
    """Tag ``run_id`` with its kind and folder (a FINISHED run accepts tags)."""
    tracker.set_tags(run_id, {T.CONFIG_KIND: kind, T.RESULTS_SUBDIR: subdir})


def place(tracker, run_id: str, experiment: str, dataset: str, kind: str,
          subdir: str | None = None) -> str:
    """Record ``run_id``'s kind and results folder (a new one unless ``subdir``, e.g. a
    search's re-seeded runs going beside its report); returns the folder."""
    if subdir is None:
        start = tracker.client.get_run(run_id).info.start_time
        subdir = results_subdir(experiment, dataset, kind, run_id, start)
    record(tracker, run_id, kind, subdir)
    return subdir


def describe(run, structure: dict) -> str:
    """Which run a report is built from: name, id, kind, start date, seeds and epochs."""
    when = dt.datetime.fromtimestamp((run.info.start_time or 0) / 1000).astimezone()
    epochs = sorted({(a.get("config") or {}).get("epochs") for a in structure.get("arms", [])}
                    - {None})
    seeds = run.data.params.get("seeds", "?")
    kind = run.data.tags.get(T.CONFIG_KIND) or "kind not recorded"
    return (f"reporting {run.info.run_name} (run {run.info.run_id}, {kind}), started "
            f"{when:%Y-%m-%d %H:%M %Z}: seeds {seeds}; "
            f"{'/'.join(map(str, epochs)) or '?'} epochs")
