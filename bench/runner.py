"""One (arm, seed) run: build, train, evaluate. No tracking here; results are plain data.

A run's random streams derive from (experiment, seed) alone, not from the arm: two arms at
the same seed draw the same initial weights wherever shapes agree, the same batch order and
the same dropout masks (common random numbers), so comparing them seed by seed is a real
pairing. Search trials add their arm and stream to the key: tuning draws its own numbers,
apart from the seeds of the final tables. Either way a run gives the same numbers whichever
process runs it and in whatever order.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass, field
from functools import lru_cache

from experiments import RunConfig

from .environment import blas_kernel
from nn_core import Trainer
from nn_core.rng import seed_sequence

__all__ = ["RunSpec", "RunResult", "execute", "run_seed", "load_data"]


@dataclass(frozen=True)
class RunSpec:
    experiment: str
    arm: str
    seed: int
    config: RunConfig
    data_seed: int = 0              # fixes the train/val/test split for the whole experiment
    data_dir: str | None = None
    stream: str = ""                # separates families of runs of one arm (e.g. search trials)

    @property
    def key(self) -> str:
        """Identifies the run across invocations (used to resume without duplicates)."""
        kind = f"{self.stream}-" if self.stream else "seed-"
        return f"{self.experiment}/{self.arm}/{kind}{self.seed}"


@dataclass
class RunResult:
    spec: RunSpec
    history: list[dict]
    diverged: bool
    stop_reason: str
    best_epoch: int | None
    test_loss: float
    test_accuracy: float
    val_loss: float
    val_accuracy: float
    seconds: float
    weights_path: str | None = None
    history_path: str | None = None   # every per-epoch field as CSV
    curve_path: str | None = None
    config_path: str | None = None    # the resolved config as an experiment file (replays it)
    dataset_fingerprint: dict = field(default_factory=dict)  # what the run was trained on
    test_evaluated: bool = True     # False for search trials: tuning never sees the test set
    blas_kernel: str = ""           # the BLAS kernel the run computed with (its digits depend on it)
    streams: str = ""               # how its random streams were drawn (pairing holds within one)

    @property
    def epochs_run(self) -> int:
        return len(self.history)

    def final_metrics(self) -> dict[str, float]:
        test = ({"test_loss": self.test_loss, "test_accuracy": self.test_accuracy}
                if self.test_evaluated else {})
        return {
            **test,
            "final_val_loss": self.val_loss, "final_val_accuracy": self.val_accuracy,
            "epochs_run": float(self.epochs_run), "diverged": float(self.diverged),
            "run_seconds": self.seconds,
            "best_epoch": float(self.best_epoch) if self.best_epoch is not None else math.nan,
        }


# Recorded with every run: the pairing of two arms' runs holds only between runs that drew
# their numbers the same way (earlier versions keyed every stream by the arm too).
STREAMS = "common-by-seed"


def run_seed(experiment: str, arm: str, seed: int, stream: str = "") -> int:
    """The integer seed of one run's network, shuffling and dropout: shared by every arm of
    ``experiment`` at ``seed``, except in a named ``stream`` (search trials), which is the
    arm's own."""
    keys = (experiment, arm, stream) if stream else (experiment, "seed")
    return int(seed_sequence(seed, *keys).generate_state(1)[0])


@lru_cache(maxsize=4)
def load_data(name: str, data_seed: int, standardize: str, data_dir: str | None, dtype: str):
    """Each process loads a data set once and reuses it for every run it executes."""
    from bench.datasets import load_dataset
    return load_dataset(name, seed=data_seed, standardize=standardize, data_dir=data_dir,
                        dtype=dtype, progress=False)


def execute(spec: RunSpec, out_dir: str | None = None, callbacks=(),
            evaluate_test: bool = True, plot: bool = False) -> RunResult:
    """Train one run and evaluate it; its weights go to ``out_dir``, and with ``plot`` its
    learning-curve PNG too (MLflow charts every run's logged histories itself, so this
    ~0.1 s per run is opt-in: ``bench run --run-plots``).

    Search trials pass ``evaluate_test=False``: tuning never looks at the test set.
    """
    cfg = spec.config
    data = load_data(cfg.dataset, spec.data_seed, cfg.standardize, spec.data_dir, cfg.dtype)
    started = time.perf_counter()
    seed = run_seed(spec.experiment, spec.arm, spec.seed, spec.stream)
    network, loss, optimizer, schedule = cfg.build(data.n_features, data.n_classes, seed)
    patience = cfg.patience if len(data.y_val) else None
    trainer = Trainer(network, loss, optimizer, schedule=schedule, batch_size=cfg.batch_size,
                      epochs=cfg.epochs, eval_every=cfg.eval_every, patience=patience,
                      callbacks=callbacks, seed=seed)
    val = (data.x_val, data.y_val) if len(data.y_val) else (None, None)
    history = trainer.fit(data.x_train, data.y_train, *val)
    with _quiet_numpy():
        test_loss, test_acc = (trainer.evaluate(data.x_test, data.y_test) if evaluate_test
                               else (math.nan, math.nan))
        val_loss, val_acc = trainer.evaluate(*val) if val[0] is not None else (math.nan, math.nan)
    if history.diverged and history.best_epoch is None and evaluate_test:
        test_loss = math.inf  # no checkpoint to fall back on: its loss is unbounded, not NaN
    result = RunResult(
        spec=spec, history=[r.as_dict() for r in history.records], diverged=history.diverged,
        stop_reason=history.stop_reason, best_epoch=history.best_epoch, test_loss=test_loss,
        test_accuracy=test_acc, val_loss=val_loss, val_accuracy=val_acc,
        seconds=time.perf_counter() - started,
        dataset_fingerprint=data.fingerprint, test_evaluated=evaluate_test,
        blas_kernel=blas_kernel(), streams=spec.stream or STREAMS)
    if out_dir is not None:
        os.makedirs(out_dir, exist_ok=True)
        result.weights_path = os.path.join(out_dir, "weights.npz")
        network.save(result.weights_path)
        result.history_path = write_history(result.history, os.path.join(out_dir, "history.csv"))
        if not spec.stream:  # a search trial's streams are its own: no file replays them
            result.config_path = write_resolved(spec, os.path.join(out_dir, "config.toml"))
        if plot and result.history:
            from .plots import learning_curve
            result.curve_path = learning_curve(
                result.history, f"{spec.arm} / seed {spec.seed}",
                os.path.join(out_dir, "learning_curve.png"))
    return result


def write_resolved(spec: RunSpec, path: str) -> str:
    from experiments.resolved import resolved_toml
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(resolved_toml(spec.experiment, spec.arm, spec.seed, spec.config, spec.key))
    return path


HISTORY_COLUMNS = ("epoch", "train_loss", "val_loss", "val_accuracy", "lr", "seconds")


def write_history(history: list[dict], path: str) -> str:
    """One row per epoch, every field of the record at full precision; an epoch without a
    validation check leaves its validation cells empty (what pandas reads as NaN)."""
    import csv

    def cell(value):
        if isinstance(value, float):
            return "" if math.isnan(value) else repr(float(value))  # not np.float64(...)
        return value
    with open(path, "w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(HISTORY_COLUMNS)
        out.writerows([cell(r[k]) for k in HISTORY_COLUMNS] for r in history)
    return path


def _quiet_numpy():
    import numpy as np
    return np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore")
