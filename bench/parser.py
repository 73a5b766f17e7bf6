"""The `bench` command line: every command, its options and their help (``build_parser``).

What the commands do is in ``bench.cli``; this module only declares them.
"""

from __future__ import annotations

import argparse

from experiments import PROTOCOLS

from . import arguments as A
from .locations import DEFAULT, KINDS
from .planning import DEFAULT_MAX_SEEDS, MAX_JOBS, MAX_SEEDS, option_owners

__all__ = ["build_parser", "version", "DISTRIBUTION", "DESCRIPTION"]

DESCRIPTION = ("Run seeded ablation studies, rebuild their tables from MLflow, tune every arm, "
               "browse the runs.")

# The name on PyPI ("bench" there is an unrelated project); the import packages and the
# `bench` command keep their names.
DISTRIBUTION = "seeded-ablation-bench"


def version() -> str:
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed
    try:
        return installed(DISTRIBUTION)
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown (not installed)"


def build_parser() -> argparse.ArgumentParser:
    from .search.command import add_search_commands
    from .search.lr_grid import OPTIONS as LR_GRID_OPTIONS
    parser = A.Parser(prog="bench", description=DESCRIPTION,
                      epilog=A.examples("python -m bench run ablation",
                                        "python -m bench report ablation"))
    parser.add_argument("--version", action="version", version=f"%(prog)s {version()}",
                        help="print the version and exit")
    sub = parser.add_subparsers(dest="command", parser_class=A.Parser, metavar="COMMAND")

    lst = sub.add_parser("list", help="show every experiment and its arms (built-in, and the "
                                      "experiment files here or named)",
                         epilog=A.examples("python -m bench list",
                                           "python -m bench list --fields"))
    lst.add_argument("files", nargs="*", help="experiment files to list too")
    lst.add_argument("--fields", action="store_true",
                     help="list the config fields instead (what [base], arms and --set take)")

    init = sub.add_parser("init", help="write a commented experiment file to start from "
                                       "(the notebook ladder)",
                          epilog=A.examples("python -m bench init lr-study.toml"))
    init.add_argument("path", nargs="?", default="my-ladder.toml",
                      help="where to write it (default my-ladder.toml; never overwrites)")

    run = sub.add_parser("run", help="run an experiment: every arm x every seed, tracked in MLflow",
                         epilog=A.examples(
                             "python -m bench run ablation            # the full default run",
                             "python -m bench run ablation --quick    # a smoke test in its own folder"))
    run.add_argument("experiment", help="experiment name (see `python -m bench list`) or "
                                        "experiment file (NAME.toml)")
    run.add_argument("--dataset", help="data set (default: the experiment's; mnist-5k works offline)")
    run.add_argument("--data-dir", help="directory holding data files (also $BENCH_DATA_DIR)")
    run.add_argument("--epochs", type=A.positive_int, help="every arm's epoch count "
                                                           "(shorthand of --set epochs=N)")
    run.add_argument("--batch-size", type=A.positive_int, help="every arm's batch size "
                                                               "(--set batch_size=N)")
    run.add_argument("--seeds", type=A.seeds, default=None, help="number of seeds (default 5) or a list like 0,3,7")
    run.add_argument("--arms", type=A.csv(str), help="comma-separated subset of arms")
    run.add_argument("--jobs", type=A.bounded_int(1, MAX_JOBS, "a number of worker processes"),
                     help="parallel worker processes (default: number of cores)")
    run.add_argument("--lr", type=A.positive_float, help="every arm's learning rate (--set lr=LR)")
    A.add_set(run)
    run.add_argument("--fresh", action="store_true",
                     help="start a new parent run even if an interrupted one with the same "
                          "arms, configs and seeds can be resumed (the default resumes it)")
    run.add_argument("--protocol", choices=sorted(PROTOCOLS),
                     help="when to validate and stop: full (default: validate every epoch, "
                          "train the whole budget, test the best-validation weights) or "
                          "notebook (check every 10 epochs, stop at the first check that does "
                          "not improve)")
    run.add_argument("--precision", type=float, metavar="PP",
                     help="adaptive seeds: add rounds of seeds until every arm's 95%% interval "
                          "of test accuracy is at most PP points wide on each side")
    run.add_argument("--max-seeds", type=A.bounded_int(2, MAX_SEEDS, "a number of seeds"),
                     help=f"with --precision: the most seeds an arm gets (default {DEFAULT_MAX_SEEDS})")
    run.add_argument("--quick", action="store_true", help="smoke-sized run: 2 seeds, 3 epochs")
    run.add_argument("--quiet", action="store_true",
                     help="no progress output (the table and where it went are still printed)")
    run.add_argument("--json", action="store_true", help="print the table as JSON on stdout")
    run.add_argument("--run-plots", action="store_true",
                     help="also draw every run's learning curve as a PNG artifact (~0.1 s CPU "
                          "per run; the MLflow UI charts each run's metrics without it)")
    run.add_argument("--storage", metavar="URL",
                     help="share the runs with `bench worker --storage URL` on other machines: "
                          "an Optuna RDB storage, postgresql://USER@HOST/DB (or sqlite:///PATH "
                          "for one machine); see README, On several machines")
    A.add_experiment_options(run, option_owners())
    A.add_tracking(run)

    report = sub.add_parser("report", help="rebuild an experiment's tables from MLflow (no training)",
                            epilog=A.examples(
                                "python -m bench report ablation              # newest full default run",
                                "python -m bench report ablation --kind quick # newest --quick run"))
    report.add_argument("experiment", help="experiment name (see `python -m bench list`)")
    report.add_argument("--dataset", help="use the newest finished run on this data set")
    report.add_argument("--kind", choices=KINDS, default=DEFAULT,
                        help="which runs to pick from: default (the full default configuration, "
                             "the default), quick (--quick) or custom (any other options)")
    report.add_argument("--tuned", action="store_true",
                        help="report the tuned re-run of a search instead of the as-specified run")
    report.add_argument("--run-id", help="the parent run to report (default: the newest "
                                         "finished one of --kind)")
    report.add_argument("--json", action="store_true", help="print the table as JSON on stdout")
    A.add_tracking(report)

    add_search_commands(sub, option_owners({"lr-grid": LR_GRID_OPTIONS}))

    rerun = sub.add_parser("rerun", help="train one (arm, seed) run again from the resolved "
                                         "config it logged",
                           epilog=A.examples("python -m bench rerun 3f2a...c9  # a run's id"))
    rerun.add_argument("run_id", help="id of an (arm, seed) run (named <arm>/seed-<n>)")
    rerun.add_argument("--data-dir", help="directory holding data files (also $BENCH_DATA_DIR)")
    rerun.add_argument("--quiet", action="store_true", help="no progress output")
    rerun.add_argument("--json", action="store_true", help="print the table as JSON on stdout")
    A.add_tracking(rerun)

    ui = sub.add_parser("ui", help="browse the runs in the MLflow UI",
                        epilog=A.examples("python -m bench ui",
                                          "python -m bench ui --port 5001"))
    ui.add_argument("--tracking-uri", help=A.TRACKING_HELP)
    ui.add_argument("--host", default="127.0.0.1",
                    help="address to bind (default 127.0.0.1: this machine only). Anything else "
                         "exposes every run and artifact to the network without authentication")
    ui.add_argument("--port", type=A.port, default=5000, help="port to listen on (default 5000)")
    ui.add_argument("--verbose", action="store_true",
                    help="show the MLflow server's own request log (hidden by default)")

    doc = sub.add_parser("doctor", help="check the tracking store; list RUNNING runs whose "
                                        "process is gone (--fix marks them KILLED)",
                         epilog=A.examples("python -m bench doctor",
                                           "python -m bench doctor --fix"))
    doc.add_argument("--tracking-uri", help=A.TRACKING_HELP)
    doc.add_argument("--experiment-name", type=A.nonempty, action="append",
                     help="only this MLflow experiment (repeatable; default: all)")
    doc.add_argument("--fix", action="store_true", help="mark orphaned runs KILLED")
    doc.add_argument("--include-unknown", action="store_true",
                     help="with --fix, also mark runs whose owner cannot be checked (another "
                          "host, or no owner recorded)")
    return parser
