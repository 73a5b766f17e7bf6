"""The figures of ``benchmarks.harness``'s passes: overhead, its pieces, parallel scaling."""

from __future__ import annotations

import math
import statistics

__all__ = ["summarize", "order_bound"]


def order_bound(seconds: list[float], jobs: int) -> float:
    """Speed-up a pool handing runs out in this order could reach with these run times."""
    finish = [0.0] * jobs
    for s in seconds:
        i = finish.index(min(finish))
        finish[i] += s
    return sum(seconds) / max(finish) if max(finish) > 0 else math.nan


def _cores(passes) -> float:
    """Cores the passes actually got: CPU seconds (own and workers') per wall second."""
    return statistics.median((p["cpu_s"] + p["workers_cpu_s"]) / p["wall_s"] for p in passes)


def _median(passes, key):
    return statistics.median(p[key] for p in passes)


def summarize(experiment, seeds, passes, tracked, serial, mismatch, parallel_jobs) -> dict:
    from .attribution import TRACKING_PIECES
    n_runs = len(experiment.arms) * len(seeds)
    on, off = _median(tracked, "wall_s"), _median(serial, "wall_s")
    on_cpu, off_cpu = _median(tracked, "cpu_s"), _median(serial, "cpu_s")
    pieces: dict[str, dict] = {}
    for p in tracked:
        for name, v in p["pieces"].items():
            agg = pieces.setdefault(name, {"calls": 0, "wall_s": 0.0, "cpu_s": 0.0})
            for k in agg:
                agg[k] += v[k] / len(tracked)
    tracking_wall = sum(v["wall_s"] for k, v in pieces.items() if k.startswith(TRACKING_PIECES))
    tracking_cpu = sum(v["cpu_s"] for k, v in pieces.items() if k.startswith(TRACKING_PIECES))
    run_seconds = [r.seconds for r in serial[0]["results"].values()]
    out = {
        "experiment": experiment.name, "arms": experiment.arm_names, "seeds": list(seeds),
        "dataset": experiment.arms[0].config.dataset,
        "epochs": sorted({a.config.epochs for a in experiment.arms}), "runs": n_runs,
        "passes": [{k: v for k, v in p.items() if k not in ("results", "pieces")} for p in passes],
        "tracked_wall_s": on, "untracked_wall_s": off, "tracked_cpu_s": on_cpu,
        "untracked_cpu_s": off_cpu, "overhead_pct": 100 * (on / off - 1),
        "overhead_cpu_pct": 100 * (on_cpu / off_cpu - 1),
        "attributed_tracking_wall_s": tracking_wall, "attributed_tracking_cpu_s": tracking_cpu,
        "attributed_overhead_pct": 100 * tracking_wall / off,
        "tracking_s_per_run": tracking_wall / n_runs,
        "mean_run_s": statistics.fmean(run_seconds),
        "pieces": pieces, "metrics_mismatch": mismatch, "target_pct": 3.0,
    }
    parallel = [p for p in passes if p["kind"] == "untracked" and p["jobs"] == parallel_jobs]
    if parallel and parallel_jobs > 1:
        par = _median(parallel, "wall_s")
        out["scaling"] = {
            "jobs": parallel_jobs, "serial_wall_s": off, "parallel_wall_s": par,
            "serial_cores_used": _cores(serial), "parallel_cores_used": _cores(parallel),
            "parallel_cpu_s": statistics.median(p["cpu_s"] + p["workers_cpu_s"]
                                                for p in parallel),
            "speedup": off / par, "order_bound": order_bound(run_seconds, parallel_jobs),
            "load_before": [p["load_before"] for p in parallel],
            "load_after": [p["load_after"] for p in parallel], "target": 1.8,
        }
    return out
