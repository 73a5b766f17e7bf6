"""Where a tracked run's time goes, and what a second worker gains, on shortened runs.

This is the per-run breakdown (the tracking-overhead target is judged on the default
ablation, in ``benchmarks.ablation_overhead``): short runs at ``jobs=1`` make the per-run
costs of tracking visible and let ``benchmarks.attribution`` time every piece in-process.

* tracked: ``bench.session.run_experiment`` into a SQLite store made beforehand (MLflow
  parent and child runs, params, metric histories, tags, weights artifacts; as by default,
  no per-run PNG), ``jobs=1``, so every run executes in this process;
* untracked: ``bench.executor.run_all`` over the same ``RunSpec`` list with no tracker and
  ``out_dir=None`` (no weights, no plot), ``jobs=1``;
* untracked with ``jobs=2`` (one BLAS thread per worker), for parallel scaling.

Passes are interleaved over ``rounds`` (the order reverses every round) and summarised by
medians. The data set is loaded before the first pass (every pass reuses it, as every run of
an invocation does), and matplotlib and MLflow are imported before it: their one-off import
is measured separately (``import_seconds``), in a fresh interpreter. ``run_plot_cost``
times what ``--run-plots`` would add: each run's learning-curve PNG.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

__all__ = ["ablation_subset", "measure_harness", "import_seconds", "tracked_pass",
           "untracked_pass", "tracked_metrics_match", "prepare", "COMPARED_METRICS"]

# Final metrics that must agree between tracked and untracked runs (run_seconds is a timing).
COMPARED_METRICS = ("test_loss", "test_accuracy", "final_val_loss", "final_val_accuracy",
                    "epochs_run", "diverged", "best_epoch")


def ablation_subset(epochs: int | None = 20, arms: list[str] | None = None,
                    dataset: str = "mnist-5k", experiment: str = "ablation"):
    from experiments import get_experiment
    exp = get_experiment(experiment).select(arms)
    changes = {"dataset": dataset}
    if epochs:
        changes["epochs"] = epochs
    return exp.map_configs(**changes)


def _specs(experiment, seeds):
    from bench.runner import RunSpec
    return [RunSpec(experiment.name, arm.name, seed, arm.config, 0, None)
            for arm in experiment.arms for seed in seeds]


def _clock():
    t = os.times()
    return (time.perf_counter(), time.process_time(), os.getloadavg()[0],
            t.children_user + t.children_system)


def _elapsed(start) -> dict:
    """Wall and CPU seconds since ``start``; ``workers_cpu_s`` is the CPU time of worker
    processes that ended (and were reaped) meanwhile."""
    deadline = time.monotonic() + 10
    while multiprocessing.active_children() and time.monotonic() < deadline:
        time.sleep(0.02)  # the pool's workers are terminated, not joined: reap them
    now = _clock()
    return {"wall_s": now[0] - start[0], "cpu_s": now[1] - start[1],
            "workers_cpu_s": now[3] - start[3], "load_before": start[2], "load_after": now[2]}


def tracked_pass(experiment, seeds, tracker, attribute: bool = False, jobs: int = 1) -> dict:
    from bench.session import run_experiment

    from .attribution import attributed
    name = f"perf-{uuid.uuid4().hex[:8]}"
    with attributed() if attribute else _nothing() as pieces:
        start = _clock()
        parent = run_experiment(experiment, tracker, seeds=list(seeds), jobs=jobs, quiet=True,
                                experiment_name=name, fresh=True)
        out = {"kind": "tracked", "jobs": jobs, **_elapsed(start)}
    out.update(parent=parent, experiment_name=name, pieces=pieces or {})
    return out


class _nothing:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


def untracked_pass(experiment, seeds, jobs: int = 1) -> dict:
    from bench.executor import run_all
    start = _clock()
    results = list(run_all(_specs(experiment, seeds), jobs, lambda spec: None))
    out = {"kind": "untracked", "jobs": jobs, **_elapsed(start)}
    failed = [f"{s.key}: {r!r}" for s, r in results if isinstance(r, BaseException)]
    if failed:
        raise RuntimeError(f"untracked runs failed: {failed}")
    out["results"] = {s.key: r for s, r in results}
    return out


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


def tracked_metrics_match(tracker, tracked: dict, untracked: dict) -> list[str]:
    """Run keys whose final metrics or training-loss history differ between the passes."""
    from bench.store import invocation_runs
    client = tracker.client
    exp_id = tracker.experiment_id(tracked["experiment_name"])
    children = invocation_runs(tracker, exp_id, tracked["parent"])
    by_key = {run.data.tags["bench.run_key"]: run for run in children}
    bad = []
    for key, result in untracked["results"].items():
        run = by_key.get(key)
        if run is None:
            bad.append(f"{key}: no tracked run")
            continue
        want = result.final_metrics()
        if any(not _same(run.data.metrics.get(m, math.nan), want.get(m, math.nan))
               for m in COMPARED_METRICS):
            bad.append(f"{key}: final metrics differ")
            continue
        logged = [m.value for m in sorted(client.get_metric_history(run.info.run_id, "train_loss"),
                                          key=lambda m: m.step)]
        if len(logged) != len(result.history) or not all(
                _same(v, r["train_loss"] if math.isfinite(r["train_loss"]) else math.nan)
                for v, r in zip(logged, result.history)):
            bad.append(f"{key}: train_loss history differs")
    return bad


def import_seconds() -> dict:
    """One-off costs of a tracked invocation, timed in a fresh interpreter."""
    code = ("import time;t=time.perf_counter();import mlflow.tracking;a=time.perf_counter();"
            "import matplotlib;matplotlib.use('Agg');import matplotlib.pyplot;"
            "b=time.perf_counter();print(a-t,b-a)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    return {"mlflow_s": float(out[0]), "matplotlib_s": float(out[1])}


def prepare(experiment, store_dir: str):
    """Load the data set, import matplotlib and open a fresh SQLite store in ``store_dir``,
    all before any pass (each is once per invocation; ``import_seconds`` times the imports)."""
    from bench.figures import pyplot as _pyplot
    from bench.runner import load_data
    from bench.tracking import Tracker
    cfg = experiment.arms[0].config
    load_data(cfg.dataset, 0, cfg.standardize, None, cfg.dtype)
    _pyplot()
    tracker = Tracker(f"sqlite:///{store_dir}/mlflow.db")
    tracker.client.search_experiments()  # schema migrations: once, outside the timing
    return tracker


def run_plot_cost(results, out_dir: str) -> float:
    """Median CPU seconds of one run's learning-curve PNG (what ``--run-plots`` adds per
    run), drawn here for each of ``results``' histories."""
    from bench.plots import learning_curve
    times = []
    for i, result in enumerate(results):
        t = time.process_time()
        learning_curve(result.history, f"{result.spec.arm} / seed {result.spec.seed}",
                       os.path.join(out_dir, f"curve-{i}.png"))
        times.append(time.process_time() - t)
    return statistics.median(times)


def measure_harness(experiment, seeds=(0, 1), rounds: int = 2, parallel_jobs: int = 2,
                    store_dir: str | None = None) -> dict:
    """Tracked (jobs 1), untracked (jobs 1) and untracked (``parallel_jobs``) passes."""
    with tempfile.TemporaryDirectory(prefix="bench-perf-", dir=store_dir) as tmp:
        tracker = prepare(experiment, tmp)
        kinds = [("tracked", 1), ("untracked", 1)]
        if parallel_jobs and parallel_jobs > 1:
            kinds.append(("untracked", parallel_jobs))
        passes = []
        for r in range(rounds):
            for kind, jobs in (kinds if r % 2 == 0 else kinds[::-1]):
                if kind == "tracked":
                    passes.append(tracked_pass(experiment, seeds, tracker, attribute=True))
                else:
                    passes.append(untracked_pass(experiment, seeds, jobs))
        tracked = [p for p in passes if p["kind"] == "tracked"]
        serial = [p for p in passes if p["kind"] == "untracked" and p["jobs"] == 1]
        mismatch = tracked_metrics_match(tracker, tracked[0], serial[0])
        plot_s = run_plot_cost(serial[0]["results"].values(), tmp)
    from .harness_summary import summarize
    out = summarize(experiment, seeds, passes, tracked, serial, mismatch, parallel_jobs)
    out["run_plot_cpu_s"] = plot_s
    return out
