"""Performance benchmarks of nn_core (not timed tests: they report, they never fail).

    python -m benchmarks core     epoch time against the matrix-product floor (batch 64, 1024)
    python -m benchmarks budget   where the time beyond the floor goes, piece by piece
    python -m benchmarks peers    nn_core against scikit-learn and PyTorch (batch 64)
    python -m benchmarks harness  tracking overhead on the default ablation (the target
                                  figure), the per-run breakdown and parallel scaling;
                                  prints perf.md's sections, writes files only with --out
    python -m benchmarks all      everything, written to results/perf.md and perf.json
                                  (run from a source checkout: not installed); sections
                                  also: directions (A/B of proposed core changes),
                                  compiled (torch.compile, JAX), protocol (validation
                                  share, quick-run start-up); --kernels both measures
                                  core, peers and directions once per OpenBLAS kernel,
                                  each in a child with OPENBLAS_CORETYPE set or unset

Every figure is printed with the BLAS, its thread count and numpy's version; ``--json PATH``
also writes them, with the machine, as one JSON record.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from .machine import machine_info

THREADS = {"1": [1], "default": [None], "both": [1, None]}
DEFAULT_BATCHES = {"core": [64, 1024], "budget": [64, 1024], "peers": [64]}


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    from .suite import add_arguments, add_harness_arguments
    add_arguments(sub.add_parser("all", help="every benchmark; writes perf.md and perf.json"))
    h = sub.add_parser("harness", help="tracking overhead on the default ablation, per-run "
                       "breakdown, parallel scaling")
    add_harness_arguments(h)
    h.add_argument("--quick", action="store_true", help="smoke-sized (not judged)")
    h.add_argument("--out", metavar="DIR", help="also write perf.md and perf.json (harness "
                   "section only) into DIR")
    for name, what in (("core", "nn_core epoch against its matrix-product floor"),
                       ("budget", "per-piece time of an nn_core epoch against the floor's"),
                       ("peers", "nn_core against scikit-learn and PyTorch (if installed)")):
        s = sub.add_parser(name, help=what, description=what)
        s.add_argument("--batch", type=int, action="append",
                       help=f"batch size, repeatable (default {DEFAULT_BATCHES[name]})")
        s.add_argument("--samples", type=int, default=60_000, help="training rows (default 60000)")
        s.add_argument("--repeats", type=int, default=5, help="timed repeats; figures are medians")
        s.add_argument("--threads", choices=sorted(THREADS), default="1",
                       help="BLAS threads: 1, the library default, or both (default 1)")
        s.add_argument("--json", metavar="PATH", help="also write the figures as a JSON record")
    return p


def _run(command: str, x, y, batches, threads, repeats, machine) -> list:
    """Measure every (batch, threads) pair, print the table, return the JSON-able rows."""
    from . import report
    settings = [(b, t) for b in batches for t in threads]
    if command == "core":
        from .core import compare
        rows = [compare(x, y, b, t, repeats=repeats) for b, t in settings]
        report.core_table(rows, machine)
        missed = [r for r in rows if r.threads == 1 and r.target and r.ratio > r.target]
        if missed:
            print(f"{len(missed)} figure(s) above target at 1 BLAS thread")
        return [r.record() for r in rows]
    if command == "budget":
        from .budget import epoch_budget
        rows = [epoch_budget(x, y, b, t, repeats=repeats) for b, t in settings]
        report.budget_table(rows, machine)
        return rows
    from .peers import compare_peers
    rows = [compare_peers(x, y, b, t, repeats=repeats) for b, t in settings]
    report.peers_table(rows, machine)
    return rows


def _harness(args) -> int:
    from .markdown import render
    from .suite import measure, write
    args.sections = "harness"
    record = measure(args)
    print(render(record))
    if args.out:
        write(record, args.out)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "all":
        from .suite import run
        try:
            return run(args)
        except ValueError as exc:  # a bad setting: one line and status 2, as `bench` does
            print(f"benchmarks: error: {exc}", file=sys.stderr)
            return 2
    if args.command == "harness":
        return _harness(args)
    from .core import make_data
    record = {"command": args.command, "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
              "machine": machine_info()}
    x, y = make_data(args.samples)
    record["results"] = _run(args.command, x, y, args.batch or DEFAULT_BATCHES[args.command],
                             THREADS[args.threads], args.repeats, record["machine"])
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(record, fh, indent=2, default=str)
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
