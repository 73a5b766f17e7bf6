"""Run every (arm, seed) of an experiment under one MLflow parent run.

Run status is truthful: children end FINISHED, FAILED (with the error as a tag) or KILLED
(Ctrl-C / SIGTERM), and the parent likewise; nothing is left RUNNING. A process killed
outright (SIGKILL) leaves its runs RUNNING with its pid in their tags: the next invocation
marks them KILLED before it starts (see ``bench.resume``).

Resume: by default an invocation continues the newest unfinished parent run with the same
structure (``bench.structure_hash``) and commit, skipping the (arm, seed) runs it already
FINISHED; ``fresh=True`` always opens a new parent run.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import tempfile

from experiments import Experiment

from . import store
from . import tags as T
from .environment import environment_tags
from .adaptive import Precision
from .arm_runs import ArmRuns
from .executor import RunsLost, WorkerDied, run_all
from .progress import RunProgress
from .report import STRUCTURE_FILE
from .resume import HASH_TAG, plan_resume, reap_orphans, structure_hash
from .runner import RunSpec, load_data

__all__ = ["run_experiment", "Interrupted"]


class Interrupted(Exception):
    """Ctrl-C or SIGTERM arrived; open runs were marked KILLED."""


class _Signals:
    """SIGTERM (and SIGINT, unless ignored) raise KeyboardInterrupt, except inside
    :meth:`critical`, where the first signal waits until the section is over: a run is never
    recorded FINISHED in the store and then marked KILLED by the clean-up. A second signal
    interrupts at once."""

    def __init__(self):
        self.depth, self.pending = 0, False
        self.saved = {}

    def handler(self, signum, frame):
        if self.depth and not self.pending:
            self.pending = True
            return
        raise KeyboardInterrupt

    def install(self):
        self.saved[signal.SIGTERM] = signal.signal(signal.SIGTERM, self.handler)
        if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
            self.saved[signal.SIGINT] = signal.signal(signal.SIGINT, self.handler)

    def restore(self):
        for sig, old in self.saved.items():
            signal.signal(sig, old)

    @contextlib.contextmanager
    def critical(self):
        self.depth += 1
        try:
            yield
        finally:
            self.depth -= 1
            if not self.depth and self.pending:
                self.pending = False
                raise KeyboardInterrupt


def _settle(tracker, runs: list[str], status: str) -> None:
    """Mark ``runs`` with ``status`` while further signals wait, giving up at once on a store
    that is down (a run left RUNNING is found by its dead owner on the next start)."""
    masked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    try:
        with tracker.best_effort():
            for run_id in runs:
                try:
                    tracker.end(run_id, status)
                except Exception:
                    pass
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, masked)


def _arm_ids(arms) -> list[str]:
    return list(arms.ids.values()) if arms is not None else []


def _unpublished(tracker, exp_id: str, structure: str, env: dict) -> str | None:
    """The newest parent of this structure and commit when it FINISHED every run but was
    stopped before its tables were written: the rerun reports it instead of measuring again."""
    newest = store.newest_parent(tracker, exp_id, structure)
    if (newest is None or newest.info.status != "FINISHED" or T.PUBLISHED in newest.data.tags
            or newest.data.tags.get(T.GIT_COMMIT) != env.get(T.GIT_COMMIT)):
        return None
    return newest.info.run_id


def _record(tracker, run_id: str, result) -> None:
    """A run's outcome into its MLflow run: FINISHED with its results, or FAILED with why."""
    if isinstance(result, BaseException):
        tracker.set_tags(run_id, {T.ERROR: f"{type(result).__name__}: {result}"[:4900]})
        tracker.end(run_id, "FAILED")
    else:
        tracker.record_result(run_id, result)
        tracker.end(run_id, "FINISHED")


def _next_round(tracker, parent: str, experiment: Experiment, seeds: list[int],
                precision: Precision, failed: set[str], make_spec) -> list[RunSpec]:
    """The runs of the next adaptive round, replayed from what the parent holds."""
    from .report import load_runs
    runs = load_runs(tracker, parent)
    done = runs[runs["status"] == "FINISHED"]
    specs = []
    for arm in experiment.arms:
        mine = done[done["arm"] == arm.name]
        results = dict(zip(mine["seed"].astype(int), mine["test_accuracy"].astype(float)))
        lost = frozenset(int(k.rsplit("-", 1)[1]) for k in failed
                         if k.startswith(f"{experiment.name}/{arm.name}/seed-"))
        specs += [make_spec(arm, s) for s in precision.plan(seeds, results, lost).pending]
    return specs


def run_experiment(experiment: Experiment, tracker, *, seeds: list[int], jobs: int = 1,
                   experiment_name: str | None = None, data_seed: int = 0,
                   data_dir: str | None = None, quiet: bool = False, command: str = "",
                   variant: str = "as-specified", run_key: str | None = None,
                   fresh: bool = False, run_plots: bool = False,
                   precision: Precision | None = None, label: str = "", queue=None) -> str:
    """Train everything and return the parent run id.

    ``label`` ends the parent run's name, e.g. ``5 seeds`` or ``quick``, so invocations are
    told apart in the MLflow UI. With ``precision``, ``seeds`` is the first round: arms whose interval is still wider than
    the target get further rounds of seeds (see ``bench.adaptive``) under the same parent.

    ``variant`` names the kind of table the runs feed (``as-specified`` or ``tuned``).
    With ``run_key``, a finished parent run with the same key is returned as it is.
    Unless ``fresh``, an unfinished parent run of the same structure is resumed.
    ``run_plots`` adds each run's learning-curve PNG to its artifacts.
    ``queue`` (a ``bench.queue.SharedQueue``) runs the runs on a shared queue instead of
    local worker processes only.
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
        done = store.finished_parent(tracker, exp_id, run_key)
        if done:
            return done
    env = environment_tags()
    structure = structure_hash(experiment, seeds, data_seed, variant
                               + (f"|precision={precision.target}|max={precision.max_seeds}"
                                  if precision else ""))
    reaped = reap_orphans(tracker, exp_id)
    unpublished = None if fresh else _unpublished(tracker, exp_id, structure, env)
    if unpublished:
        if not quiet:
            print(f"parent run {unpublished} finished its runs but its tables were not written: "
                  "writing them now (--fresh measures again)", file=sys.stderr, flush=True)
        return unpublished
    plan = None if fresh else plan_resume(
        tracker, exp_id, structure, same_tags={T.GIT_COMMIT: env.get(T.GIT_COMMIT)})

    all_specs = [RunSpec(experiment.name, arm.name, seed, arm.config, data_seed, data_dir)
                 for arm in experiment.arms for seed in seeds]
    specs = [s for s in all_specs if plan is None or s.key not in plan.finished]
    if not quiet and reaped:
        print(f"marked {len(reaped)} run(s) KILLED whose process is gone", file=sys.stderr)
    if not quiet and plan is not None:
        print(f"resuming parent run {plan.parent_id} ({plan.previous_status}): "
              f"{len(all_specs) - len(specs)} of {len(all_specs)} runs already finished, "
              f"{len(specs)} to run (--fresh starts over)", file=sys.stderr, flush=True)
    open_runs: dict[str, str] = {}
    parent = None
    arms: ArmRuns | None = None
    staging = tempfile.TemporaryDirectory(prefix="bench-")
    progress = None

    signals = _Signals()

    def on_start(spec: RunSpec) -> None:
        with signals.critical():
            run_id = tracker.start_run(
                exp_id, f"{spec.arm}/seed-{spec.seed}", parent_id=arms.get(spec.arm),
                tags={**env, T.KIND: "run", T.EXPERIMENT: spec.experiment,
                      T.ARM: spec.arm, T.SEED: str(spec.seed), T.INVOCATION: parent,
                      T.RUN_KEY: spec.key, T.DATASET: spec.config.dataset})
            open_runs[spec.key] = run_id
            # Params now, not with the final metrics (one call fewer): a run whose process
            # dies before it ends keeps them.
            tracker.log_params(run_id, {**spec.config.as_params(), "seed": spec.seed,
                                        "data_seed": spec.data_seed})
            for old in (plan.stale.pop(spec.key, []) if plan is not None else []):
                # An earlier attempt of this (arm, seed), killed or failed: the new run
                # replaces it in the tables. Deleted in MLflow's sense (restorable, and
                # tagged with its successor), so each (arm, seed) counts once.
                store.supersede(tracker, old, run_id)
        progress.started(spec)

    # From here on a signal becomes KeyboardInterrupt, so every run opened below is closed.
    # It interrupts training at once; a write to the store in progress is completed first
    # (an MLflow write cut in half can leave a SQLite store locked), unless a second
    # signal insists.
    signals.install()
    parent_done = False
    try:
        parent_tags = {**env, T.KIND: "parent", T.EXPERIMENT: experiment.name,
                       T.DATASET: cfg0.dataset, T.DATASET_DESCRIPTION: data.description,
                       T.COMMAND: command, T.BLAS_THREADS_PER_RUN: "1",
                       T.VARIANT: variant, HASH_TAG: structure,
                       **({T.PARENT_KEY: run_key} if run_key else {})}
        params = {"seeds": ",".join(map(str, seeds)), "jobs": jobs, "data_seed": data_seed,
                  "arms": ",".join(experiment.arm_names), "dataset": cfg0.dataset,
                  **({"precision": precision.target, "max_seeds": precision.max_seeds}
                     if precision else {})}
        with signals.critical():
            if plan is None:
                parent = tracker.start_run(
                    exp_id, " ".join(filter(None, (experiment.name, cfg0.dataset, label)))
                    + ("" if variant == "as-specified" else f" ({variant})"), tags=parent_tags,
                    description=f"{experiment.description}\n\nArms: "
                                f"{', '.join(experiment.arm_names)}. Seeds: {seeds}. "
                                f"Dataset: {data.description}")
                tracker.log_params(parent, params)
            else:
                parent = plan.parent_id
                tracker.claim(parent)
                before = tracker.client.get_run(parent)
                attempts = int(before.data.tags.get(T.ATTEMPTS, "1")) + 1
                tracker.set_tags(parent, {T.ATTEMPTS: str(attempts),
                                          T.LAST_COMMAND: command})
                missing = {k: v for k, v in params.items() if k not in before.data.params}
                if missing:
                    tracker.log_params(parent, missing)
            tracker.log_json(parent, experiment.structure(), STRUCTURE_FILE)
            arms = ArmRuns(tracker, exp_id, parent, {**env, T.EXPERIMENT: experiment.name,
                                                     T.DATASET: cfg0.dataset},
                           experiment, resume=plan is not None)
        # With a queue the coordinator prints the queue's own progress lines instead.
        progress = RunProgress(len(specs), quiet=quiet or queue is not None)
        out_dir = lambda spec: os.path.join(staging.name, spec.arm, f"seed-{spec.seed}")  # noqa: E731
        failed_here: set[str] = set()
        lost: list[str] = []  # runs whose worker process was killed: the next start resumes them
        if queue is not None:  # a shared queue (bench.queue): workers anywhere record the runs
            for arm in experiment.arms:
                arms.get(arm.name)  # opened now: the workers nest their runs under them
            failed_here, lost = queue(
                tracker=tracker, experiment=experiment, experiment_id=exp_id, parent=parent,
                arm_runs=dict(arms.ids), specs=specs, all_keys=[s.key for s in all_specs],
                seeds=seeds, data_seed=data_seed, data_dir=data_dir, precision=precision,
                jobs=jobs, run_plots=run_plots, env=env, quiet=quiet)
        else:
            while True:  # one round, or with adaptive seeds as many as the target needs
                for spec, result in run_all(specs, jobs, out_dir, on_start, plot=run_plots):
                    with signals.critical():
                        _record(tracker, open_runs[spec.key], result)
                        open_runs.pop(spec.key)  # only once recorded: else the clean-up closes it
                    if isinstance(result, WorkerDied):
                        lost.append(f"{spec.arm} seed {spec.seed} ({result})")
                    if isinstance(result, BaseException):
                        failed_here.add(spec.key)
                        progress.failed(spec, result)
                    else:
                        progress.finished(spec, result)
                # A run opened but never reported back (its worker died in a way the pool did not
                # attribute to it) is recorded FAILED and counted lost, never left RUNNING under a
                # FINISHED parent: the same command then runs it again.
                round_keys = {s.key for s in specs}
                for key in [k for k in open_runs if k in round_keys]:
                    with signals.critical():
                        _record(tracker, open_runs[key], RuntimeError(
                            "no result came back from the worker pool (its worker died)"))
                        open_runs.pop(key)
                    failed_here.add(key)
                    lost.append(f"{key} (no result came back from the worker pool)")
                specs = (_next_round(tracker, parent, experiment, seeds, precision, failed_here,
                                     lambda arm, seed: RunSpec(experiment.name, arm.name, seed,
                                                               arm.config, data_seed, data_dir))
                         if precision else [])
                if not specs:
                    break
                progress.add(len(specs))
        failures = len(failed_here)
        with signals.critical():
            arms.close()
            tracker.set_tags(parent, {T.FAILED_RUNS: str(failures)})
            # Not FINISHED while runs are missing: a FINISHED parent is never resumed.
            tracker.end(parent, "FAILED" if lost else "FINISHED")
            parent_done = True
        if lost:
            progress.close()
            raise RunsLost(lost, progress.total)
    except KeyboardInterrupt:
        if parent_done:  # everything was recorded: only the interrupt is left to report
            raise Interrupted(f"interrupted after every run FINISHED (parent run {parent}); "
                              "the tables were not written: `python -m bench report "
                              f"{experiment.name}` writes them") from None
        _settle(tracker, [*open_runs.values(), *_arm_ids(arms), *([parent] if parent else [])],
                "KILLED")
        if progress is not None:
            progress.close()
        raise Interrupted(f"interrupted; {len(open_runs)} open run(s) and the parent run "
                          f"{parent} marked KILLED; run the same command again to resume") from None
    except BaseException:
        if not parent_done:
            _settle(tracker, [*open_runs.values(), *_arm_ids(arms), *([parent] if parent else [])],
                    "FAILED")
        if progress is not None:
            progress.close()
        raise
    finally:
        signals.restore()
        staging.cleanup()
    progress.close()
    return parent
