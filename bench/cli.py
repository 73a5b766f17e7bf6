"""``python -m bench``: list, run, report, ui, doctor (and the commands later issues add).

Bad input exits with status 2 and a one-line message before any work is done: every option
is checked, and the tracking store, Optuna storage, data and results directories are checked
(without creating anything) before a store is opened. Exit status 75 means the tracking
store went away for longer than its retry budget; 130 an interrupt. Both leave nothing
RUNNING, and the same command resumes.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys

__all__ = ["main", "build_parser", "UsageError"]


class UsageError(Exception):
    """A bad command-line value; reported in one line with exit status 2."""


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args, **kwargs):
        # No prefix matching: `--epoch 3` is a typo, not `--epochs 3`, and `run --seed 3`
        # must not quietly mean `--seeds 3` (search has both --seed and --seeds).
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message):  # one line, not argparse's usage block
        raise UsageError(f"{message} (see `python -m bench {self.prog.split()[-1]} --help`)"
                         if " " in self.prog else message)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


MAX_SEEDS = 10_000
MAX_JOBS = max(256, 4 * (os.cpu_count() or 1))


def _bounded_int(low: int, high: int, what: str = "an integer"):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"expected {what} in [{low}, {high}], got {value}")
        return value
    return parse


_port = _bounded_int(1, 65535, "a TCP port")


def _positive_float(text: str) -> float:
    """A finite number > 0 (``nan``, ``inf``, ``0`` and negatives are refused)."""
    import math
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"expected a finite positive number, got {text!r}")
    return value


def _nonempty(text: str) -> str:
    if not text.strip() or "\x00" in text:
        raise argparse.ArgumentTypeError(f"expected a non-empty name, got {text!r}")
    return text


def _seeds(text: str) -> list[int]:
    """``5`` means seeds 0..4; ``0,3,7`` means exactly those."""
    try:
        if "," in text:
            seeds = [int(s) for s in text.split(",") if s.strip()]
            if not seeds or min(seeds) < 0 or len(set(seeds)) != len(seeds):
                raise ValueError
        else:
            seeds = list(range(_bounded_int(1, MAX_SEEDS)(text)))
    except (ValueError, argparse.ArgumentTypeError):
        raise argparse.ArgumentTypeError(
            f"expected a number of seeds (1 to {MAX_SEEDS}, e.g. 5) or distinct non-negative "
            f"seeds (e.g. 0,3,7), got {text!r}") from None
    if len(seeds) > MAX_SEEDS or max(seeds) >= 2**63:
        raise argparse.ArgumentTypeError(f"at most {MAX_SEEDS} seeds, each below 2**63, "
                                         f"got {text[:40]!r}")
    return seeds


def _csv(kind):
    def parse(text: str):
        try:
            values = [kind(p) for p in text.split(",") if p.strip()]
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected comma-separated {kind.__name__}s, got {text!r}") from None
        if not values:
            raise argparse.ArgumentTypeError(f"expected at least one {kind.__name__}, got {text!r}")
        return values
    return parse


def _add_tracking(p):
    p.add_argument("--tracking-uri", help="MLflow tracking URI (default: $MLFLOW_TRACKING_URI "
                   "or sqlite:///mlflow.db in the working directory)")
    p.add_argument("--experiment-name", type=_nonempty,
                   help="MLflow experiment name (default: the experiment's)")
    p.add_argument("--results-dir", default="results", help="where tables go (default: results)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="bench", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    sub.add_parser("list", help="show every experiment and its arms")

    run = sub.add_parser("run", help="run an experiment: every arm x every seed, tracked in MLflow")
    run.add_argument("experiment", help="experiment name (see `python -m bench list`)")
    run.add_argument("--dataset", help="data set (default: the experiment's; mnist-5k works offline)")
    run.add_argument("--data-dir", help="directory holding data files (also $BENCH_DATA_DIR)")
    run.add_argument("--epochs", type=_positive_int, help="override every arm's epoch count")
    run.add_argument("--batch-size", type=_positive_int, help="override every arm's batch size")
    run.add_argument("--seeds", type=_seeds, default=None, help="number of seeds (default 5) or a list like 0,3,7")
    run.add_argument("--arms", type=_csv(str), help="comma-separated subset of arms")
    run.add_argument("--jobs", type=_bounded_int(1, MAX_JOBS, "a number of worker processes"),
                     help="parallel worker processes (default: number of cores)")
    run.add_argument("--lr", type=_positive_float, help="override every arm's learning rate")
    run.add_argument("--fresh", action="store_true",
                     help="start a new parent run even if an interrupted one with the same "
                          "arms, configs and seeds can be resumed (the default resumes it)")
    run.add_argument("--quick", action="store_true", help="smoke-sized run: 2 seeds, 3 epochs")
    run.add_argument("--quiet", action="store_true", help="no progress output")
    run.add_argument("--run-plots", action="store_true",
                     help="also draw every run's learning curve as a PNG artifact (~0.1 s CPU "
                          "per run; the MLflow UI charts each run's metrics without it)")
    run.add_argument("--depths", type=_csv(int), help="batchnorm: network depths (affine layers), e.g. 3,5")
    run.add_argument("--widths", type=_csv(int), help="batchnorm: hidden width, or one per hidden layer")
    run.add_argument("--weight-scales", type=_csv(float), help="batchnorm: init std values, e.g. 0.01,0.05")
    _add_tracking(run)

    report = sub.add_parser("report", help="rebuild an experiment's tables from MLflow (no training)")
    report.add_argument("experiment")
    report.add_argument("--dataset", help="use the newest finished run on this data set")
    report.add_argument("--run-id", help="the parent run to report (default: the newest finished)")
    _add_tracking(report)

    from .search.command import add_search_commands
    add_search_commands(sub, (_positive_int, _seeds, _csv, _add_tracking))

    ui = sub.add_parser("ui", help="browse the runs in the MLflow UI")
    ui.add_argument("--tracking-uri")
    ui.add_argument("--host", default="127.0.0.1",
                    help="address to bind (default 127.0.0.1: this machine only). Anything else "
                         "exposes every run and artifact to the network without authentication")
    ui.add_argument("--port", type=_port, default=5000)

    from .perf.suite import add_arguments as add_perf_arguments
    add_perf_arguments(sub.add_parser("perf", help="benchmark nn_core and the harness; "
                                      "writes results/perf.md and perf.json"))

    doc = sub.add_parser("doctor", help="check the tracking store; list RUNNING runs whose "
                                        "process is gone (--fix marks them KILLED)")
    doc.add_argument("--tracking-uri")
    doc.add_argument("--experiment-name", type=_nonempty, action="append",
                     help="only this MLflow experiment (repeatable; default: all)")
    doc.add_argument("--fix", action="store_true", help="mark orphaned runs KILLED")
    doc.add_argument("--include-unknown", action="store_true",
                     help="with --fix, also mark runs whose owner cannot be checked (another "
                          "host, or no owner recorded)")
    return parser


def _experiment_options(args) -> dict:
    opts = {}
    depths, widths, scales = (getattr(args, k, None) for k in ("depths", "widths", "weight_scales"))
    if args.experiment == "batchnorm":
        if depths:
            opts["depths"] = tuple(depths)
        if widths:
            opts["widths"] = tuple(widths)
        if scales:
            opts["weight_scales"] = tuple(scales)
    elif depths or widths or scales:
        raise UsageError("--depths/--widths/--weight-scales apply to the batchnorm experiment only")
    return opts


def prepare_experiment(args):
    """The experiment named on the command line with its overrides applied (and validated)."""
    from experiments import EXPERIMENTS, get_experiment

    from .datasets import DATASETS
    if args.experiment not in EXPERIMENTS:
        raise UsageError(f"unknown experiment {args.experiment!r}; valid: {', '.join(EXPERIMENTS)}")
    if args.dataset is not None and args.dataset not in DATASETS:
        raise UsageError(f"unknown dataset {args.dataset!r}; valid: {', '.join(DATASETS)}")
    experiment = get_experiment(args.experiment, **_experiment_options(args)).select(args.arms)
    changes = {}
    if args.dataset:
        changes["dataset"] = args.dataset
    if args.quick:
        changes.update(epochs=3, eval_every=1)
    if args.epochs:
        changes["epochs"] = args.epochs
    if getattr(args, "batch_size", None):
        changes["batch_size"] = args.batch_size
    if getattr(args, "lr", None):
        changes["lr"] = args.lr
    return experiment.map_configs(**changes)


def _preflight(args, storage: bool = False) -> None:
    """Every store and directory the command will use, checked before any is touched."""
    from .doctor import (check_data_dir, check_optuna_storage, check_results_dir,
                         check_tracking_uri)
    from .tracking import resolve_tracking_uri
    if hasattr(args, "results_dir"):
        check_results_dir(args.results_dir)
    check_data_dir(getattr(args, "data_dir", None))
    if storage:
        check_optuna_storage(getattr(args, "storage", None))
    if hasattr(args, "tracking_uri"):
        check_tracking_uri(resolve_tracking_uri(args.tracking_uri))


def _check_timeout(args) -> None:
    if getattr(args, "timeout", None) is not None:
        import math
        if not math.isfinite(args.timeout) or args.timeout <= 0:
            raise UsageError(f"argument --timeout: expected a finite positive number of "
                             f"seconds, got {args.timeout!r}")


def _command_line(args) -> str:
    """The invocation as typed: ``main(argv)``'s own arguments, not the host program's."""
    return "python -m bench " + " ".join(shlex.quote(a) for a in args.argv)


def cmd_list(args) -> int:
    from experiments import EXPERIMENTS, get_experiment
    for name in EXPERIMENTS:
        exp = get_experiment(name)
        print(f"{name}: {exp.description}")
        for arm in exp.arms:
            vs = f"  (vs {arm.compare_to})" if arm.compare_to else ""
            print(f"  {arm.name:<18} {arm.description}{vs}")
    return 0


def run_plan(args):
    """The experiment, seeds and worker count ``bench run`` uses for ``args`` (also what
    ``python -m bench.perf harness`` measures for ``run ablation``)."""
    from .executor import default_jobs
    experiment = prepare_experiment(args)
    seeds = args.seeds if args.seeds is not None else list(range(2 if args.quick else 5))
    return experiment, seeds, args.jobs or default_jobs()


def cmd_run(args) -> int:
    from .doctor import redact
    experiment, seeds, jobs = run_plan(args)
    _preflight(args)  # before the heavy imports below: a bad store fails in a second

    from .runner import load_data
    # The data next (kept for the runs): a corrupt file is the only line printed.
    cfg0 = experiment.arms[0].config
    load_data(cfg0.dataset, 0, cfg0.standardize, args.data_dir, cfg0.dtype)

    from .publish import publish
    from .session import run_experiment
    from .tracking import Tracker
    tracker = Tracker(args.tracking_uri)
    command = _command_line(args)
    if not args.quiet:
        print(f"{experiment.name}: {len(experiment.arms)} arms x {len(seeds)} seeds on "
              f"{experiment.arms[0].config.dataset}, {jobs} job(s); tracking {redact(tracker.uri)}",
              file=sys.stderr)
    parent = run_experiment(experiment, tracker, seeds=seeds, jobs=jobs,
                            experiment_name=args.experiment_name, data_dir=args.data_dir,
                            quiet=args.quiet, command=command, fresh=args.fresh,
                            run_plots=args.run_plots)
    publish(tracker, parent, args.results_dir, quiet=args.quiet, command=command)
    return 0


def cmd_report(args) -> int:
    from .publish import publish
    from .report import find_parent_run
    from .tracking import Tracker
    _preflight(args)
    tracker = Tracker(args.tracking_uri)
    parent = args.run_id or find_parent_run(tracker, args.experiment_name or args.experiment,
                                            args.dataset)
    publish(tracker, parent, args.results_dir)
    return 0


def cmd_search(args) -> int:
    from .search.command import cmd_search as run
    _check_timeout(args)
    if not 0 <= args.seed < 2**32:
        raise UsageError(f"argument --seed: expected an integer in [0, 2**32), got {args.seed}")
    if args.jobs > MAX_JOBS:
        raise UsageError(f"argument --jobs: expected at most {MAX_JOBS}, got {args.jobs}")
    if args.experiment != "lr-grid":
        prepare_experiment(args)  # bad names and values fail here, before any store is checked
    _preflight(args, storage=True)
    return run(args, prepare_experiment, _command_line(args))


def cmd_worker(args) -> int:
    from .search.command import cmd_worker as run
    _check_timeout(args)
    _preflight(args, storage=True)
    return run(args)


def cmd_dashboard(args) -> int:
    from .search.command import cmd_dashboard as run
    if not 1 <= args.port <= 65535:
        raise UsageError(f"argument --port: expected a TCP port in [1, 65535], got {args.port}")
    _preflight(args, storage=True)
    return run(args)


def cmd_ui(args) -> int:
    from .ui import serve_ui
    _preflight(args)
    return serve_ui(args.tracking_uri, args.host, args.port)


def cmd_perf(args) -> int:
    from .perf.suite import run
    return run(args)


def cmd_doctor(args) -> int:
    from .doctor import doctor
    return doctor(args.tracking_uri, args.experiment_name, fix=args.fix,
                  include_unknown=args.include_unknown)


COMMANDS = {"list": cmd_list, "run": cmd_run, "report": cmd_report, "ui": cmd_ui,
            "search": cmd_search, "worker": cmd_worker, "dashboard": cmd_dashboard,
            "doctor": cmd_doctor, "perf": cmd_perf}


def main(argv: list[str] | None = None) -> int:
    from .progress import quiet_library_noise
    quiet_library_noise()  # before MLflow is imported: no tqdm bars, no alembic INFO lines
    try:
        args = build_parser().parse_args(argv)
        args.argv = sys.argv[1:] if argv is None else list(argv)
        return COMMANDS[args.command](args)
    except UsageError as exc:
        print(f"bench: error: {exc}", file=sys.stderr)
        return 2
    except ValueError as exc:  # invalid values found while building configs or data
        print(f"bench: error: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("bench: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        from .session import Interrupted
        from .tracking import TrackingUnavailable
        if isinstance(exc, Interrupted):
            print(f"bench: {exc}", file=sys.stderr)
            return 130
        if isinstance(exc, TrackingUnavailable):
            print(f"bench: error: {exc}", file=sys.stderr)
            return 75  # EX_TEMPFAIL: try again later; the same command resumes
        raise
