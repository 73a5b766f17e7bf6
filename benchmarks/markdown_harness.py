"""``perf.md`` sections 3-4: tracking overhead on the default ablation (the target figure),
the per-run breakdown on shortened runs, and parallel scaling."""

from __future__ import annotations

__all__ = ["harness_sections"]


def _table(header: list[str], rows: list[list]) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header),
            *("| " + " | ".join(str(c) for c in row) + " |" for row in rows), ""]


def _passes(passes: list[dict]) -> list[str]:
    rows = [[i + 1, p["kind"], p["jobs"], f"{p['wall_s']:.1f}", f"{p['cpu_s']:.1f}",
             f"{p['workers_cpu_s']:.1f}", f"{p['cpu_s'] + p['workers_cpu_s']:.1f}",
             f"{p['load_before']:.1f} -> {p['load_after']:.1f}"]
            for i, p in enumerate(passes)]
    return _table(["pass", "kind", "jobs", "wall s", "CPU s (this process)",
                   "CPU s (workers)", "CPU s (total)", "load avg"], rows)


def _attributable(a: dict) -> list[str]:
    att = a.get("attributable")
    if not att:
        return []
    return [f"Attributable to tracking (the judged figure): **{att['pct']:.1f}% CPU**, "
            f"{att['ms_per_run']:.0f} ms per run = this process's extra "
            f"{att['main_cpu_s']:.2f} s + the workers' tracking pieces "
            f"({att['worker_pieces_ms_per_run']:.1f} ms per run timed in the breakdown below, "
            f"{att['worker_pieces_cpu_s']:.2f} s). The workers train the same runs in both "
            "kinds of pass (identical metrics), so the rest of their CPU difference is the "
            "machine's noise: it is what moves the per-round figures above.", ""]


def _ablation(a: dict, imports: dict | None) -> list[str]:
    rounds = ", ".join(f"{v:.1f}%" for v in a["overhead_cpu_pct_per_round"])
    what = (f"`{a['command']}`: " if a["default"] else "Smoke-sized stand-in (not the default "
            "ablation, so not judged): ")
    out = ["## 3. Tracking overhead on the default ablation (the target figure)", "",
           f"{what}`{a['experiment']}`, {len(a['arms'])} arms x {len(a['seeds'])} seeds = "
           f"{a['runs']} runs on {a['dataset']}, epochs {a['epochs']} (early stopping as "
           f"configured), {a['jobs']} worker process(es). Tracked = `run_experiment` into a "
           "fresh SQLite store (the workers save weights; no per-run PNG, as without "
           "`--run-plots`); untracked = `executor.run_all` over the same runs and workers, no tracker, "
           "`out_dir=None`. Rounds alternate the order (T U, U T, ...). CPU = this process "
           "plus its worker processes.", "",
           *_passes(a["passes"]),
           f"Overhead: **{a['overhead_cpu_pct']:.1f}% CPU** (per round: {rounds}), "
           f"{a['overhead_wall_pct']:.1f}% wall (medians: tracked {a['tracked_cpu_s']:.1f} s "
           f"CPU / {a['tracked_wall_s']:.1f} s wall, untracked {a['untracked_cpu_s']:.1f} s CPU "
           f"/ {a['untracked_wall_s']:.1f} s wall). The extra CPU is "
           f"{a['extra_main_cpu_s']:.1f} s in this process (MLflow calls and the session's "
           f"bookkeeping) and {a['extra_workers_cpu_s']:.1f} s in the workers.", "",
           *_attributable(a),
           f"Metrics of tracked and untracked runs (final metrics, train_loss histories): "
           f"{'identical' if not a['metrics_mismatch'] else a['metrics_mismatch']}.", ""]
    if imports:
        out += [f"Not in the passes, paid once per invocation (fresh interpreter): import "
                f"MLflow {imports['mlflow_s']:.2f} s, matplotlib {imports['matplotlib_s']:.2f} s "
                f"({100 * sum(imports.values()) / a['untracked_cpu_s']:.1f}% of an untracked "
                "pass's CPU).", ""]
    return out


def _breakdown(h: dict) -> list[str]:
    pieces = [[k, f"{v['calls']:.0f}", f"{v['wall_s']:.2f}", f"{v['cpu_s']:.2f}",
               f"{v['cpu_s'] / h['runs'] * 1e3:.1f}"]
              for k, v in sorted(h["pieces"].items(), key=lambda kv: -kv[1]["cpu_s"])]
    return ["### Per-run breakdown (shortened runs, jobs 1; not the target figure)", "",
            f"Where a tracked run's time goes, every piece timed in-process: `{h['experiment']}`,"
            f" {len(h['arms'])} arms x {len(h['seeds'])} seeds = {h['runs']} runs on "
            f"{h['dataset']}, epochs {h['epochs']}; mean untracked run {h['mean_run_s']:.2f} s. "
            "Runs this short make the per-run costs a large share: "
            f"{h['overhead_cpu_pct']:.1f}% CPU, {h['overhead_pct']:.1f}% wall here (medians: "
            f"tracked {h['tracked_cpu_s']:.1f} s CPU, untracked {h['untracked_cpu_s']:.1f} s).",
            "", *_passes(h["passes"]),
            "Mean per tracked pass:", "",
            *_table(["piece", "calls", "wall s", "CPU s", "CPU ms per run"], pieces),
            "A child run costs 4 MLflow calls: `create_run` (with all its tags), `log_batch` "
            "(params), `log_batch` (metric histories, final metrics and result tags together), "
            "`set_terminated`; the artifact location comes from `create_run` (no `get_run` per "
            "artifact). The params stay in a call of their own, made when the run starts: a "
            "run whose process dies before it ends keeps them.", "",
            *([f"`--run-plots` adds each run's learning-curve PNG: "
               f"{h['run_plot_cpu_s'] * 1e3:.0f} ms CPU per run (median over these runs' "
               "histories; one reused figure per process, no constrained layout or mathtext, "
               "`bench/run_curve.py`).", ""] if h.get("run_plot_cpu_s") else [])]


def _scaling(h: dict, sc: dict) -> list[str]:
    return ["## 4. Parallel scaling (shortened runs, untracked, one BLAS thread per worker)", "",
            *_table(["jobs 1 wall s", f"jobs {sc['jobs']} wall s", "speed-up",
                     "bound from run order", f"cores used (jobs 1 / jobs {sc['jobs']})",
                     f"CPU s (jobs 1 / jobs {sc['jobs']})", "load avg before", "load avg after"],
                    [[f"{sc['serial_wall_s']:.1f}", f"{sc['parallel_wall_s']:.1f}",
                      f"{sc['speedup']:.2f}x", f"{sc['order_bound']:.2f}x",
                      f"{sc['serial_cores_used']:.2f} / {sc['parallel_cores_used']:.2f}",
                      f"{h['untracked_cpu_s']:.1f} / {sc['parallel_cpu_s']:.1f}",
                      ", ".join(f"{v:.1f}" for v in sc["load_before"]),
                      ", ".join(f"{v:.1f}" for v in sc["load_after"])]]),
            "Cores used = CPU seconds of this process and its workers per wall second: "
            "what the machine gave the runs. The bound from run order is the speed-up a "
            "pool handing out these runs in this order could reach on idle cores.", ""]


def harness_sections(h: dict) -> list[str]:
    out = []
    if h.get("ablation"):
        out += _ablation(h["ablation"], h.get("imports"))
    if h.get("pieces") is not None:
        if not h.get("ablation"):
            out += ["## 3. Tracking overhead", ""]
        out += _breakdown(h)
    if h.get("scaling"):
        out += _scaling(h, h["scaling"])
    return out
