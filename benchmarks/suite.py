"""``python -m benchmarks all``: every benchmark in one run (from a source checkout).

Sections, each measured side by side in this process (or a fresh child for memory):

1. ``core``     nn_core epoch against its matrix-product floor, batch 64 and 1024;
2. ``peers``    PyTorch (if importable) and scikit-learn, batch 64, and their losses after
                one epoch from nn_core's start;
3. ``harness``  tracking overhead on the default ablation (``bench run ablation``'s exact
                runs and workers, tracked against untracked: the target figure), and
                tracked against untracked shortened runs at jobs 1 with where the
                tracked time goes (the per-run breakdown);
4. (scaling)    the untracked shortened runs with ``--jobs 2`` too (part of ``harness``);
5. ``memory``   peak memory of an MNIST-sized run, above the data;
6. ``flat``     flat parameter storage against per-parameter storage, and bit identity.

Writes ``<results-dir>/perf.json`` (every figure, the machine, the BLAS) and ``perf.md``.
Nothing here fails on a missed target: it reports it, with what limits it.
"""

from __future__ import annotations

import json
import os
import shlex
import sys
import time

__all__ = ["add_arguments", "add_harness_arguments", "measure", "write", "run", "SECTIONS"]

SECTIONS = ("core", "peers", "directions", "compiled", "harness", "protocol", "memory", "flat")
# Run order: peers last, so the harness's worker processes never fork a process that has
# imported torch or JAX (and started their thread pools).
RUN_ORDER = ("core", "directions", "flat", "harness", "protocol", "memory", "peers", "compiled")
# Measured once per BLAS kernel with ``--kernels both`` (see benchmarks.kernels).
KERNEL_SECTIONS = ("core", "peers", "directions")


def add_harness_arguments(p) -> None:
    p.add_argument("--ablation-rounds", type=int, default=2,
                   help="harness: rounds of tracked / untracked passes of the default "
                        "ablation, order alternating (default 2: T U U T; 0 skips them)")
    p.add_argument("--epochs", type=int, default=20,
                   help="harness breakdown and scaling: every arm's epoch count (default 20; "
                        "the ablation's own is 50, 100 for the deep arms)")
    p.add_argument("--seeds", type=int, default=2,
                   help="harness breakdown and scaling: seeds per arm (default 2)")
    p.add_argument("--arms", help="harness breakdown and scaling: comma-separated arms "
                                  "(default: all 13)")
    p.add_argument("--rounds", type=int, default=2, help="harness breakdown and scaling: "
                   "interleaved rounds of tracked / untracked / --jobs 2 passes (default 2)")
    p.add_argument("--jobs", type=int, default=2,
                   help="harness scaling: parallel workers (default 2)")


def add_arguments(p) -> None:
    p.add_argument("--sections", default=",".join(SECTIONS),
                   help=f"comma-separated subset of {','.join(SECTIONS)} (default: all)")
    p.add_argument("--samples", type=int, default=60_000,
                   help="rows of the MNIST-shaped data for core, peers, flat (default 60000)")
    p.add_argument("--repeats", type=int, default=3,
                   help="timed repeats for core and peers; figures are medians (default 3)")
    add_harness_arguments(p)
    p.add_argument("--flat-pairs", type=int, default=12,
                   help="flat: alternating pairs of batch-64 epochs (default 12)")
    p.add_argument("--results-dir", default="results", help="where perf.md/json go")
    p.add_argument("--kernels", choices=("env", "both"), default="env",
                   help="env: this process's BLAS kernel; both: the sections "
                        f"{','.join(KERNEL_SECTIONS)} once per OpenBLAS kernel, each in a fresh "
                        "child process with OPENBLAS_CORETYPE=Haswell or unset (default env)")
    p.add_argument("--quick", action="store_true",
                   help="smoke-sized: 4000 samples, 1 repeat, 2 arms x 1 seed x 2 epochs, 1 "
                        "round (the default ablation too: its overhead is then not judged)")


DEFAULTS = {"samples": 60_000, "repeats": 3, "flat_pairs": 12, "sections": ",".join(SECTIONS)}


def _settings(args) -> dict:
    s = {k: getattr(args, k, DEFAULTS.get(k)) for k in (
        "samples", "repeats", "epochs", "seeds", "arms", "rounds", "jobs", "flat_pairs",
        "ablation_rounds", "quick")}
    if args.quick:
        s.update(samples=4000, repeats=1, epochs=2, seeds=1, rounds=1, flat_pairs=1,
                 ablation_rounds=min(1, s["ablation_rounds"]),
                 arms=args.arms or "softmax-ce,momentum")
    s["arms"] = s["arms"].split(",") if s["arms"] else None
    s["sections"] = [x for x in getattr(args, "sections", DEFAULTS["sections"]).split(",") if x]
    s["kernels"] = getattr(args, "kernels", "env")
    unknown = sorted(set(s["sections"]) - set(SECTIONS))
    if unknown:
        raise ValueError(f"unknown perf section(s) {unknown}; valid: {', '.join(SECTIONS)}")
    return s


def _log(msg: str) -> None:
    print(f"[perf {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def _core(x, y, s) -> dict:
    from .bounds import epoch_bounds
    from .budget import epoch_budget
    from .core import compare
    rows = [compare(x, y, b, 1, repeats=s["repeats"]).record() for b in (64, 1024)]
    missed = [r["batch"] for r in rows if r["target"] and r["cpu_ratio"] > r["target"]]
    budget = [epoch_budget(x, y, b, 1, repeats=max(1, s["repeats"] - 1)) for b in missed]
    bounds = [epoch_bounds(x, b, 1, repeats=s["repeats"]) for b in missed]
    return {"rows": rows, "budget": budget, "bounds": bounds}


def _peers(x, y, s) -> dict:
    from .machine import blas_limits, torch_threads
    from .peerloss import equal_start_losses
    from .peers import compare_peers
    out = {"timing": compare_peers(x, y, 64, 1, repeats=s["repeats"])}
    digits = _digits()
    with blas_limits(1), torch_threads(1):
        out["losses"] = {
            "benchmark data (random labels)": equal_start_losses(x, y, 64),
            "mnist-5k (real digits, 3,600 rows)": equal_start_losses(
                digits.x_train, digits.y_train, 64)}
    return out


def _digits():
    from bench.runner import load_data
    return load_data("mnist-5k", 0, "global", None, "float32")


def _compiled(x, y, s) -> dict:
    from .compiled import compare_compiled
    digits = _digits()
    return compare_compiled(x, y, 64, repeats=s["repeats"],
                            digits=(digits.x_train, digits.y_train))


def _directions(x, s) -> dict:
    from .directions import measure_directions
    return measure_directions(x, 64, repeats=max(3, s["repeats"]))


def _harness(s) -> dict:
    from .ablation_overhead import attributable, measure_overhead
    from .harness import ablation_subset, import_seconds, measure_harness
    exp = ablation_subset(epochs=s["epochs"], arms=s["arms"])
    out = measure_harness(exp, seeds=tuple(range(s["seeds"])), rounds=s["rounds"],
                          parallel_jobs=s["jobs"])
    if s["ablation_rounds"] > 0:
        smoke = {"experiment": exp, "seeds": range(s["seeds"])} if s["quick"] else {}
        out["ablation"] = measure_overhead(rounds=s["ablation_rounds"], log=_log, **smoke)
        out["ablation"]["attributable"] = attributable(out["ablation"], out)
    out["imports"] = import_seconds()
    return out


def _flat(x, y, s) -> dict:
    from .flatcheck import compare_with_revision
    from .flatspeed import flat_speed
    out = {"speed": [flat_speed(x, y, 64, pairs=s["flat_pairs"])]}
    try:
        out["identity"] = compare_with_revision()
    except Exception as exc:  # no git, or not a checkout: compare within this revision
        from .flatcheck import histories, same_bits
        out["identity"] = {"revision": f"unavailable ({type(exc).__name__}: {exc})",
                           "flat_vs_detached": same_bits(histories(False), histories(True))}
    return out


def measure(args) -> dict:
    """Every section asked for, measured; the record ``perf.json`` holds."""
    from .machine import blas_info, blas_limits, machine_info
    s = _settings(args)
    started = time.time()
    argv = sys.argv[1:]
    prog = "python -m benchmarks"
    record = {"command": " ".join([prog, *map(shlex.quote, argv)]),
              "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "settings": s,
              "machine": machine_info(), "sections": {}}
    if not os.environ.get("OPENBLAS_CORETYPE"):
        _log("warning: OPENBLAS_CORETYPE is not set (figures here are recorded with "
             "OPENBLAS_CORETYPE=Haswell); the BLAS picks its kernels by itself")
    with blas_limits(1):
        record["blas_1_thread"] = blas_info()
    record["blas_default"] = blas_info()
    x = y = None
    here = list(s["sections"])
    if s["kernels"] == "both":
        from .kernels import per_kernel
        record["kernels"] = per_kernel([n for n in here if n in KERNEL_SECTIONS], s, log=_log)
        here = [n for n in here if n not in KERNEL_SECTIONS]
    if {"core", "peers", "flat", "directions", "compiled"} & set(here):
        from .core import make_data
        x, y = make_data(s["samples"])
    for name in [n for n in RUN_ORDER if n in here]:
        _log(f"{name} ...")
        t0 = time.perf_counter()
        if name == "core":
            result = _core(x, y, s)
        elif name == "peers":
            result = _peers(x, y, s)
        elif name == "harness":
            result = _harness(s)
        elif name == "protocol":
            from .protocol import quick_run_startup, validation_share
            result = {"validation": validation_share(repeats=max(2, s["repeats"])),
                      "startup": quick_run_startup(repeats=1 if s["quick"] else 3)}
        elif name == "directions":
            result = _directions(x, s)
        elif name == "compiled":
            result = _compiled(x, y, s)
        elif name == "memory":
            from .memory import measure_memory
            result = measure_memory(epochs=1)
        else:
            result = _flat(x, y, s)
        result["section_seconds"] = time.perf_counter() - t0
        record["sections"][name] = result
        _log(f"{name} done in {result['section_seconds']:.0f}s")
    record["machine_after"] = machine_info()
    record["duration_s"] = time.time() - started
    return record


def write(record: dict, results_dir: str) -> tuple[str, str]:
    from . import markdown
    os.makedirs(results_dir, exist_ok=True)
    json_path = os.path.join(results_dir, "perf.json")
    with open(json_path, "w") as fh:
        json.dump(record, fh, indent=1, default=str)
    md_path = os.path.join(results_dir, "perf.md")
    with open(md_path, "w") as fh:
        fh.write(markdown.render(record))
    _log(f"wrote {md_path} and {json_path} ({record['duration_s']:.0f}s)")
    return md_path, json_path


def run(args) -> int:
    write(measure(args), args.results_dir)
    return 0
