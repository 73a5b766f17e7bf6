"""Run every (arm, seed) of an experiment under one MLflow parent run.

Run status is truthful: children end FINISHED, FAILED (with the error as a tag) or KILLED
(Ctrl-C / SIGTERM), and the parent likewise; nothing is left RUNNING.
"""

from __future__ import annotations

import os
import signal
import tempfile
from dataclasses import asdict

from experiments import Experiment

from .environment import environment_tags
from .executor import run_all
from .progress import RunProgress
from .report import STRUCTURE_FILE
from .runner import RunSpec, load_data

__all__ = ["run_experiment", "Interrupted"]


class Interrupted(Exception):
    """Ctrl-C or SIGTERM arrived; open runs were marked KILLED."""


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt


def structure_of(experiment: Experiment) -> dict:
    return {
        "experiment": experiment.name, "description": experiment.description,
        "baseline": experiment.baseline, "reference_note": experiment.reference_note,
        "arms": [{"name": a.name, "description": a.description, "compare_to": a.compare_to,
                  "reference": a.reference, "config": asdict(a.config)} for a in experiment.arms],
    }


def run_experiment(experiment: Experiment, tracker, *, seeds: list[int], jobs: int = 1,
                   experiment_name: str | None = None, data_seed: int = 0,
                   data_dir: str | None = None, quiet: bool = False, command: str = "",
                   variant: str = "as-specified", run_key: str | None = None) -> str:
    """Train everything and return the parent run id.

    ``variant`` names the kind of table the runs feed (``as-specified`` or ``tuned``).
    With ``run_key``, a finished parent run with the same key is returned as it is.
    """
    datasets = {a.config.dataset for a in experiment.arms}
    if len(datasets) != 1:
        raise ValueError(f"an invocation runs on one dataset, the arms use {sorted(datasets)}")
    cfg0 = experiment.arms[0].config
    # Load once here, before any run is opened: a bad dataset fails fast, and forked
    # workers share these pages instead of each reading the files again.
    data = load_data(cfg0.dataset, data_seed, cfg0.standardize, data_dir, cfg0.dtype)

    exp_id = tracker.experiment_id(experiment_name or experiment.name)
    if run_key:
        done = tracker.client.search_runs(
            [exp_id], f"tags.`bench.parent_key` = '{run_key}' and attributes.status = 'FINISHED'",
            max_results=1)
        if done:
            return done[0].info.run_id
    env = environment_tags()
    parent = tracker.start_run(
        exp_id, f"{experiment.name}/{cfg0.dataset}",
        tags={**env, "bench.kind": "parent", "bench.experiment": experiment.name,
              "bench.dataset": cfg0.dataset, "bench.dataset_description": data.description,
              "bench.command": command, "bench.blas_threads_per_run": "1",
              "bench.variant": variant, **({"bench.parent_key": run_key} if run_key else {})},
        description=f"{experiment.description}\n\nArms: {', '.join(experiment.arm_names)}. "
                    f"Seeds: {seeds}. Dataset: {data.description}")
    tracker.log_params(parent, {"seeds": ",".join(map(str, seeds)), "jobs": jobs,
                                "data_seed": data_seed, "arms": ",".join(experiment.arm_names),
                                "dataset": cfg0.dataset})
    tracker.log_json(parent, structure_of(experiment), STRUCTURE_FILE)

    specs = [RunSpec(experiment.name, arm.name, seed, arm.config, data_seed, data_dir)
             for arm in experiment.arms for seed in seeds]
    open_runs: dict[str, str] = {}
    staging = tempfile.TemporaryDirectory(prefix="bench-")
    progress = RunProgress(len(specs), quiet=quiet)

    def on_start(spec: RunSpec) -> None:
        run_id = tracker.start_run(
            exp_id, f"{spec.arm}/seed-{spec.seed}", parent_id=parent,
            tags={**env, "bench.kind": "run", "bench.experiment": spec.experiment,
                  "bench.arm": spec.arm, "bench.seed": str(spec.seed), "bench.run_key": spec.key,
                  "bench.dataset": spec.config.dataset})
        tracker.log_params(run_id, {**spec.config.as_params(), "seed": spec.seed,
                                    "data_seed": spec.data_seed})
        open_runs[spec.key] = run_id
        progress.started(spec)

    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    failures = 0
    try:
        out_dir = lambda spec: os.path.join(staging.name, spec.arm, f"seed-{spec.seed}")  # noqa: E731
        for spec, result in run_all(specs, jobs, out_dir, on_start):
            run_id = open_runs.pop(spec.key)
            if isinstance(result, BaseException):
                failures += 1
                tracker.set_tags(run_id, {"bench.error": f"{type(result).__name__}: {result}"[:4900]})
                tracker.end(run_id, "FAILED")
                progress.failed(spec, result)
            else:
                tracker.record_result(run_id, result)
                tracker.end(run_id, "FINISHED")
                progress.finished(spec, result)
    except KeyboardInterrupt:
        for run_id in open_runs.values():
            tracker.end(run_id, "KILLED")
        tracker.end(parent, "KILLED")
        progress.close()
        raise Interrupted(f"interrupted; {len(open_runs)} open run(s) and the parent run "
                          f"{parent} marked KILLED") from None
    except BaseException:
        for run_id in open_runs.values():
            tracker.end(run_id, "FAILED")
        tracker.end(parent, "FAILED")
        progress.close()
        raise
    finally:
        signal.signal(signal.SIGTERM, previous)
        staging.cleanup()
    progress.close()
    tracker.set_tags(parent, {"bench.failed_runs": str(failures)})
    tracker.end(parent, "FINISHED")
    return parent
