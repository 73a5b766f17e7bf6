"""``results/perf.md``: every figure of a ``python -m benchmarks all`` record, with its BLAS."""

from __future__ import annotations

from .markdown_harness import harness_sections
from .report import blas_line
from .targets import evaluate, kernel_label

__all__ = ["render"]


def _table(header: list[str], rows: list[list]) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header),
            *("| " + " | ".join(str(c) for c in row) + " |" for row in rows), ""]


def _load(m: dict) -> str:
    return "/".join(f"{v:.2f}" for v in m.get("loadavg_1_5_15") or [])


def _header(r: dict) -> list[str]:
    m = r["machine"]
    return [
        "# nn_core and harness performance", "",
        f"Written by `{r['command']}` on {r['started']} in {r['duration_s']:.0f} s. "
        "Every figure was measured side by side with the one it is compared to, in one "
        "process, interleaved; figures are medians.", "",
        f"- machine: {m['cpus']} x {m['cpu']} ({m['platform']}), Python {m['python']}, "
        f"numpy {m['numpy']}; load average (1/5/15 min) {_load(m)} before, "
        f"{_load(r['machine_after'])} after",
        f"- BLAS at 1 thread (all single-threaded figures): {blas_line(r['blas_1_thread'], m)}",
        f"- BLAS default: {blas_line(r['blas_default'], m)}",
        f"- environment: {m['env']}", "",
    ]


def _verdict(met) -> str:
    return "not judged" if met is None else "met" if met else "**missed**"


def _targets(r: dict) -> list[str]:
    rows = [[t["what"], t["target"], t["measured"], _verdict(t["met"]), t["limit"]]
            for t in evaluate(r)]
    return ["## Targets", "", "Judged on process CPU time for single-threaded work and, for the "
            "tracking overhead, on the CPU time tracking adds (this process's extra CPU plus "
            "the workers' timed tracking pieces, see section 3) -- robust to waiting for a "
            "core on a shared machine; wall time in brackets -- and on wall time for "
            "parallel scaling.", "",
            *_table(["what", "target", "measured", "", "what limits it"], rows)]


def _core(c: dict) -> list[str]:
    rows = [[r["batch"], f"{r['epoch_median_s']:.3f}", f"{r['floor_median_s']:.3f}",
             f"{r['ratio']:.2f}", f"{r['best_ratio']:.2f}", f"{r['cpu_ratio']:.2f}",
             f"<= {r['target']}"] for r in c["rows"]]
    out = ["## 1. nn_core epoch against its matrix-product floor", "",
           f"784-89-10 tanh, softmax CE, SGD momentum 0.9, float32, {c['rows'][0]['samples']:,} "
           f"samples, 1 BLAS thread, {len(c['rows'][0]['epoch_s'])} repeats.", "",
           *_table(["batch", "epoch s", "floor s", "ratio (wall)", "min/min", "CPU ratio",
                    "target"], rows)]
    for b in c["budget"]:
        out += [f"Where batch {b['batch']}'s time goes (ms per epoch, median):", "",
                *_table(["piece", "nn_core", "floor products", "overhead"],
                        [[n, f"{p['nn_core_s'] * 1e3:.1f}", f"{p['floor_s'] * 1e3:.1f}",
                          f"{p['overhead_s'] * 1e3:.1f}"] for n, p in b["pieces"].items()])]
    for b in c.get("bounds", []):
        out += _bounds(b)
    return out


_YARDSTICKS = {"gather": "copy of consecutive rows (same bytes)",
               "optimizer step": "one in-place pass over the parameters",
               "tanh forward": "np.multiply over the same activations"}


def _bounds(b: dict) -> list[str]:
    rows = [[n, f"{p['cpu_s'] * 1e3:.1f}", _YARDSTICKS.get(n, ""),
             f"{p['yardstick_cpu_s'] * 1e3:.1f}", f"{p['ratio']:.1f}x" if p["ratio"] else ""]
            for n, p in b["pieces"].items()]
    return [f"What those pieces are bound by, batch {b['batch']} (CPU ms per epoch, each next "
            f"to a yardstick on the same memory; {b['parameters']:,} parameters; a numpy call "
            f"costs {b['call_s'] * 1e6:.1f} us before any work):", "",
            *_table(["piece", "ms", "yardstick", "yardstick ms", "piece / yardstick"], rows)]


def _peers(p: dict) -> list[str]:
    t = p["timing"]
    rows = [["nn_core", "", f"{t['nn_core_s']:.3f}", f"{t['nn_core_cpu_s']:.3f}", "1", "1"]]
    for name, peer in t["peers"].items():
        if peer.get("skipped"):
            rows.append([name, "skipped", peer["skipped"], "", "", ""])
            continue
        rows.append([name, peer["version"], f"{peer['median_s']:.3f}",
                     f"{peer['cpu_median_s']:.3f}", f"{peer['median_s'] / t['nn_core_s']:.2f}",
                     f"{peer['cpu_median_s'] / t['nn_core_cpu_s']:.2f}"])
    out = ["## 2. Peers (batch 64, one epoch, same network, optimizer and data)", "",
           *_table(["library", "version", "epoch s", "CPU s", "time / nn_core",
                    "CPU / nn_core"], rows),
           f"torch: {t['torch']}", "",
           "Losses after one epoch from the same start (nn_core's initial weights and "
           "first-epoch row order): the mean training loss each library reports, and the "
           "cross-entropy of the weights it ends with on the whole training set (one float64 "
           "function for all).", ""]
    rows = []
    for data, res in p["losses"].items():
        base = res["nn_core"]["final_loss"]
        rows.append([data, "(start)", "", f"{res['initial_loss']:.6f}", ""])
        for lib in ("nn_core", "torch", "scikit-learn"):
            v = res.get(lib, {})
            if "skipped" in v or not v:
                rows.append([data, lib, v.get("skipped", "missing"), "", ""])
                continue
            rows.append([data, lib, f"{v['epoch_loss']:.6f}", f"{v['final_loss']:.6f}",
                         f"{v['final_loss'] - base:+.2e}"])
    return out + _table(["data", "library", "epoch-mean loss", "final loss", "vs nn_core"],
                        rows) + [
        "On random labels there is nothing to learn and this optimizer's loss rises from its "
        "start: rounding differences between the libraries' matrix products grow there, so "
        "equal behaviour shows on the real digits.", ""]


def _directions(d: dict) -> list[str]:
    rows = []
    for name, p in d["pieces"].items():
        bits = "" if "same_bits" not in p else ("yes" if p["same_bits"] else "no")
        rows.append([name, f"{p['now_cpu_s'] * 1e3:.1f}", f"{p['proposed_cpu_s'] * 1e3:.1f}",
                     f"{p['ratio']:.3f}", f"{p['proposed_faster']}/{d['repeats']}", bits])
    return ["## 1b. The proposed directions, A/B (batch 64, CPU ms per epoch, interleaved)", "",
            "fused momentum: the weight products plus the momentum step as nn_core runs them "
            "(np.matmul into W.grad, SGD.step) against `scipy.linalg.blas.sgemm` accumulating "
            "`v = mu v + lr x^T d` in place (beta, overwrite_c), then the biases and "
            "`p -= v`. uint8 gather: shuffled float32 rows against shuffled uint8 rows "
            "standardised into a preallocated float32 batch.", "",
            *_table(["direction", "nn_core now", "proposed", "proposed / now",
                     "repeats proposed faster", "same bits"], rows)]


def _compiled(c: dict) -> list[str]:
    rows = []
    for name, t in c["timing"].items():
        rows.append([name, f"{t['median_s']:.3f}", f"{t['cpu_median_s']:.3f}",
                     f"{t['cpu_vs_nn_core']:.2f}"])
    out = ["## 2b. Compiled peers (batch 64, one epoch from nn_core's start, 1 BLAS and 1 XLA "
           "thread; compilation done before the timed epochs)", "",
           *_table(["library", "epoch s (wall)", "CPU s", "CPU / nn_core"], rows)]
    rows = []
    for data, res in c["losses"].items():
        base = res["nn_core"]["final_loss"]
        rows.append([data, "(start)", "", f"{res['initial_loss']:.6f}", "", ""])
        for lib, v in res.items():
            if lib == "initial_loss":
                continue
            if "skipped" in v:
                rows.append([data, lib, v["skipped"], "", "", ""])
                continue
            rows.append([data, lib, f"{v['epoch_loss']:.6f}", f"{v['final_loss']:.6f}",
                         f"{v['final_loss'] - base:+.2e}",
                         f"{v['compile_s']:.1f}" if "compile_s" in v else ""])
    return out + _table(["data", "library", "epoch-mean loss", "final loss", "vs nn_core",
                         "compile s (wall)"], rows)


def _protocol(p: dict) -> list[str]:
    v, st = p["validation"], p["startup"]
    rows = [[arm, a["train_rows"], a["val_rows"], f"{a['epoch_cpu_s'] * 1e3:.1f}",
             f"{a['validation_cpu_s'] * 1e3:.2f}",
             f"{a['validation_cpu_s'] / a['epoch_cpu_s']:.1%}"] for arm, a in v["arms"].items()]
    runs = [[i + 1, f"{r['wall_s']:.1f}", f"{r['cpu_s']:.1f}", f"{r['load']:.1f}"]
            for i, r in enumerate(st["runs"])]
    first = st["first_run"]
    return ["## 7. The full protocol: validation every epoch, a quick run's start-up", "",
            "Validation against a training epoch, per arm of the default ablation (its own "
            "config on mnist-5k, alternating, CPU ms, medians):", "",
            *_table(["arm", "train rows", "val rows", "epoch ms", "validation ms", "share"],
                    rows),
            "`python -m bench run ablation --quick` in a new empty directory (wall and CPU "
            "of the command and its workers; the first invocation, which also makes the "
            f"store template, took {first['wall_s']:.1f} s wall, {first['cpu_s']:.1f} s CPU, "
            "and is not counted):", "",
            *_table(["run", "wall s", "CPU s", "load (1 min)"], runs),
            "Where a fresh interpreter's time goes (CPU s, each piece in its own fresh "
            "interpreter, medians):", "",
            *_table(["piece", "CPU s"], [[k, f"{x:.2f}"] for k, x in st["pieces_cpu_s"].items()])]


def _memory(m: dict) -> list[str]:
    return ["## 5. Peak memory of an MNIST-sized run", "",
            f"`runner.execute` (momentum arm, {m['epochs_run']} epoch(s), validation, test, "
            f"weights, plot) in a fresh interpreter on {m['train_rows']:,} train + 10,000 val "
            "+ 10,000 test rows of 784 float32 features.", "",
            *_table(["peak RSS MB", "RSS before data MB", "data MB", "peak - data MB",
                     "traced peak above data MB", "target"],
                    [[f"{m['peak_rss_mb']:.0f}", f"{m['rss_before_data_mb']:.0f}",
                      f"{m['data_mb']:.0f}", f"{m['peak_above_data_mb']:.0f}",
                      f"{m['traced_peak_above_data_mb']:.0f}", f"<= {m['target_mb']}"]])]


def _flat(f: dict) -> list[str]:
    rows = [[s["batch"], s["pairs"], f"{s['flat_cpu_s']:.3f}", f"{s['per_param_cpu_s']:.3f}",
             f"{s['cpu_ratio']:.3f} ({s['pairs_flat_faster_cpu']}/{s['pairs']})",
             f"{s['flat_step_cpu_s'] * 1e3:.1f}", f"{s['per_param_step_cpu_s'] * 1e3:.1f}",
             f"{s['step_cpu_ratio']:.2f} ({s['pairs_flat_faster_step']}/{s['pairs']})",
             f"{s['wall_ratio']:.3f}", "yes" if s["same_loss"] else "NO"] for s in f["speed"]]
    ident = f["identity"]
    return ["## 6. Flat parameter storage against per-parameter storage", "",
            *_table(["batch", "pairs", "flat epoch CPU s", "per-param CPU s",
                     "CPU ratio (pairs faster)", "flat step ms/epoch", "per-param step ms",
                     "step ratio (pairs faster)", "wall ratio", "same loss"], rows),
            f"Bit identity (histories, final weights, optimizer state; configs "
            f"{', '.join(ident.get('configs', []))}) against nn_core at "
            f"{ident['revision']}: flat {ident.get('flat_vs_revision', 'n/a') or 'identical'}, "
            f"per-parameter {ident.get('detached_vs_revision', 'n/a') or 'identical'}; flat "
            f"vs per-parameter {ident['flat_vs_detached'] or 'identical'}.", ""]


def _kernels(record: dict) -> list[str]:
    out = []
    for label, entry in record.get("kernels", {}).items():
        tag = kernel_label(label, entry)
        out += [f"## Kernel: {tag}", ""]
        if "sections" not in entry:
            out += [f"The child process failed (exit status {entry['returncode']}): no figures.",
                    ""]
            continue
        load = "/".join(f"{v:.2f}" for v in entry.get("load") or [])
        out += [f"Measured in a fresh child process ({entry['seconds']:.0f} s), load {load} at "
                f"its start; BLAS at 1 thread: "
                f"{blas_line(entry['blas_1_thread'], {**record['machine'], 'env': entry['env']})}",
                ""]
        for name, fn in (("core", _core), ("directions", _directions), ("peers", _peers)):
            if name in entry["sections"]:
                out += [line.replace("## ", "### ", 1) if line.startswith("## ") else line
                        for line in fn(entry["sections"][name])]
    return out


def render(record: dict) -> str:
    sec = record["sections"]
    lines = _header(record) + _targets(record) + _kernels(record)
    for name, fn in (("core", _core), ("directions", _directions), ("peers", _peers),
                     ("compiled", _compiled), ("harness", harness_sections),
                     ("protocol", _protocol), ("memory", _memory), ("flat", _flat)):
        if name in sec:
            lines += fn(sec[name])
    return "\n".join(lines) + "\n"
