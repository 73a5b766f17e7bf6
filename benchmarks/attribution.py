"""Where a tracked run's time goes: timers around MLflow calls, plotting and weight saving.

``attributed()`` patches, for the duration of a block in this process:

* every public ``MlflowClient`` method (outermost call only: ``log_dict`` calling
  ``log_artifact`` inside counts once), as ``mlflow.<method>``;
* ``bench.plots.learning_curve`` (the per-run plot ``runner.execute`` draws);
* ``nn_core.Sequential.save`` (the per-run weights) and ``bench.runner.write_history`` (its
  ``history.csv``);
* ``bench.tracking.Tracker.log_artifact`` minus the MLflow calls inside it, as
  ``artifact copy``;
* ``bench.executor.execute`` (a whole run: training, evaluation, weights and plot) and
  ``nn_core.Trainer.fit`` (training alone), for scale.

With ``jobs=1`` every run executes in this process, so the timers see all of it. Each entry
is ``{"calls": n, "wall_s": ..., "cpu_s": ...}``.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import time

__all__ = ["attributed", "TRACKING_PIECES", "WORKER_PIECES"]

# The pieces that exist only because of tracking (the rest is training and evaluation).
TRACKING_PIECES = ("mlflow.", "learning curve plot", "weights save", "history write",
                   "artifact copy")
# The pieces a worker process does for tracking (the rest happens in the parent process).
WORKER_PIECES = ("learning curve plot", "weights save", "history write")


class _Timers:
    def __init__(self):
        self.pieces: dict[str, dict] = {}
        self.depth = 0          # > 0 inside an MLflow call already being timed
        self.mlflow_inside = [0.0, 0.0]  # MLflow time inside an outer timed piece

    def add(self, name, wall, cpu):
        entry = self.pieces.setdefault(name, {"calls": 0, "wall_s": 0.0, "cpu_s": 0.0})
        entry["calls"] += 1
        entry["wall_s"] += wall
        entry["cpu_s"] += cpu

    def wrap(self, name, fn, mlflow=False, minus_mlflow=False):
        timers = self

        @functools.wraps(fn)
        def timed(*args, **kwargs):
            if mlflow and timers.depth:
                return fn(*args, **kwargs)
            if mlflow:
                timers.depth += 1
            before = list(timers.mlflow_inside)
            w0, c0 = time.perf_counter(), time.process_time()
            try:
                return fn(*args, **kwargs)
            finally:
                wall, cpu = time.perf_counter() - w0, time.process_time() - c0
                if mlflow:
                    timers.depth -= 1
                    timers.mlflow_inside[0] += wall
                    timers.mlflow_inside[1] += cpu
                if minus_mlflow:
                    wall -= timers.mlflow_inside[0] - before[0]
                    cpu -= timers.mlflow_inside[1] - before[1]
                timers.add(name, wall, cpu)
        return timed


@contextlib.contextmanager
def attributed():
    """Yield a dict that fills with the pieces' times while the block runs."""
    from mlflow.tracking import MlflowClient

    import bench.executor
    import bench.plots
    import bench.runner
    import nn_core
    from bench.tracking import Tracker

    timers = _Timers()
    patches = [(MlflowClient, name, timers.wrap(f"mlflow.{name}", fn, mlflow=True))
               for name, fn in vars(MlflowClient).items()
               if inspect.isfunction(fn) and not name.startswith("_")]
    patches += [
        (bench.plots, "learning_curve",
         timers.wrap("learning curve plot", bench.plots.learning_curve)),
        (nn_core.Sequential, "save", timers.wrap("weights save", nn_core.Sequential.save)),
        (bench.runner, "write_history", timers.wrap("history write", bench.runner.write_history)),
        (Tracker, "log_artifact",
         timers.wrap("artifact copy", Tracker.log_artifact, minus_mlflow=True)),
        (nn_core.Trainer, "fit", timers.wrap("training (Trainer.fit)", nn_core.Trainer.fit)),
        (bench.executor, "execute", timers.wrap("whole run (runner.execute)",
                                                bench.executor.execute)),
    ]
    saved = [(owner, name, owner.__dict__[name]) for owner, name, _ in patches]
    for owner, name, new in patches:
        setattr(owner, name, new)
    try:
        yield timers.pieces
    finally:
        for owner, name, old in saved:
            setattr(owner, name, old)
