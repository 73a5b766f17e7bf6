"""Tables of benchmark figures, each with the BLAS and machine it was measured on."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

__all__ = ["core_table", "budget_table", "peers_table", "blas_line"]


def _threads(threads: int | None) -> str:
    return "default" if threads is None else str(threads)


def blas_line(blas: list[dict], machine: dict) -> str:
    libs = ", ".join(f"{b['internal_api']} {b['version']} ({b['architecture']}, "
                     f"{b['num_threads']} thread{'s' if b['num_threads'] != 1 else ''})"
                     for b in blas) or "no BLAS found"
    load = machine.get("loadavg_1_5_15")
    load = "/".join(f"{v:.2f}" for v in load) if load else "?"
    return (f"numpy {machine['numpy']}, BLAS {libs}, OPENBLAS_CORETYPE="
            f"{machine['env'].get('OPENBLAS_CORETYPE')}, {machine['cpus']} x {machine['cpu']}, "
            f"load {load}")


def _console() -> Console:
    return Console(width=max(120, Console().width))  # wide enough for the table in a pipe


def core_table(rows, machine: dict, console: Console | None = None) -> None:
    console = console or _console()
    table = Table(title=f"nn_core epoch vs matrix-product floor ({rows[0].samples} samples, "
                        f"median of {len(rows[0].epoch_s)})")
    for col in ("batch", "BLAS threads", "epoch s", "floor s", "ratio", "min/min", "CPU ratio",
                "target", ""):
        table.add_column(col, justify="right")
    for r in rows:
        ok = "" if r.target is None else ("ok" if r.ratio <= r.target else "MISSED")
        table.add_row(str(r.batch), _threads(r.threads), f"{r.epoch:.3f}", f"{r.floor:.3f}",
                      f"{r.ratio:.2f}", f"{r.best_ratio:.2f}", f"{r.cpu_ratio:.2f}",
                      "" if r.target is None else f"<= {r.target}", ok)
    console.print(table)
    console.print("ratio = median epoch / median floor (wall); min/min = fastest over fastest; "
                  "CPU ratio = the same with process CPU time (robust to waiting for a core)")
    _print_blas([(r.threads, r.blas) for r in rows], machine, console)


def budget_table(rows: list[dict], machine: dict, console: Console | None = None) -> None:
    console = console or _console()
    for r in rows:
        table = Table(title=f"batch {r['batch']}, BLAS threads {_threads(r['threads'])}: "
                            "ms per epoch (median)")
        for col in ("piece", "nn_core", "floor products", "overhead"):
            table.add_column(col, justify="right")
        totals = [0.0, 0.0, 0.0]
        for name, p in r["pieces"].items():
            values = (p["nn_core_s"], p["floor_s"], p["overhead_s"])
            totals = [t + v for t, v in zip(totals, values)]
            table.add_row(name, *(f"{v * 1e3:.1f}" for v in values))
        table.add_row("total", *(f"{v * 1e3:.1f}" for v in totals), style="bold")
        console.print(table)
        console.print(f"overhead / floor = {totals[2] / totals[1]:.2f}")
    _print_blas([(r["threads"], r["blas"]) for r in rows], machine, console)


def peers_table(rows: list[dict], machine: dict, console: Console | None = None) -> None:
    console = console or _console()
    table = Table(title="one epoch, same network and data, same process (median seconds)")
    for col in ("batch", "BLAS threads", "library", "epoch s", "CPU s", "peer / nn_core",
                "CPU ratio", "target"):
        table.add_column(col, justify="right")
    for r in rows:
        table.add_row(str(r["batch"]), _threads(r["threads"]), "nn_core",
                      f"{r['nn_core_s']:.3f}", f"{r['nn_core_cpu_s']:.3f}", "", "", "")
        for name, peer in r["peers"].items():
            if peer.get("skipped"):
                table.add_row("", "", name, "skipped", "", peer["skipped"], "", "")
                continue
            speedup = peer["median_s"] / r["nn_core_s"]
            ok = "ok" if speedup >= 2 else "MISSED"
            table.add_row("", "", f"{name} {peer['version']}", f"{peer['median_s']:.3f}",
                          f"{peer['cpu_median_s']:.3f}", f"{speedup:.2f}x",
                          f"{peer['cpu_median_s'] / r['nn_core_cpu_s']:.2f}x",
                          f">= 2x {ok}" if r["batch"] == 64 else "")
    console.print(table)
    console.print("CPU s / CPU ratio: process CPU time (robust to waiting for a core; with more "
                  "than one thread it adds up the threads)")
    for r in rows:
        console.print(f"torch at BLAS threads={_threads(r['threads'])}: {r['torch']}")
    _print_blas([(r["threads"], r["blas"]) for r in rows], machine, console)


def _print_blas(settings, machine: dict, console: Console) -> None:
    seen = set()
    for threads, blas in settings:
        if threads not in seen:
            seen.add(threads)
            console.print(f"BLAS threads={_threads(threads)}: {blas_line(blas, machine)}")
