"""``python -m bench``: list, run, report, ui (and the commands later issues add).

Bad input exits with status 2 and a one-line message before any work is done.
"""

from __future__ import annotations

import argparse
import shlex
import sys

__all__ = ["main", "build_parser", "UsageError"]


class UsageError(Exception):
    """A bad command-line value; reported in one line with exit status 2."""


class _Parser(argparse.ArgumentParser):
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


def _seeds(text: str) -> list[int]:
    """``5`` means seeds 0..4; ``0,3,7`` means exactly those."""
    try:
        if "," in text:
            seeds = [int(s) for s in text.split(",") if s.strip()]
            if not seeds or min(seeds) < 0 or len(set(seeds)) != len(seeds):
                raise ValueError
            return seeds
        return list(range(_positive_int(text)))
    except (ValueError, argparse.ArgumentTypeError):
        raise argparse.ArgumentTypeError(
            f"expected a number of seeds (e.g. 5) or distinct non-negative seeds (e.g. 0,3,7), got {text!r}") from None


def _csv(kind):
    def parse(text: str):
        try:
            return [kind(p) for p in text.split(",") if p.strip()]
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected comma-separated {kind.__name__}s, got {text!r}") from None
    return parse


def _add_tracking(p):
    p.add_argument("--tracking-uri", help="MLflow tracking URI (default: $MLFLOW_TRACKING_URI "
                   "or sqlite:///mlflow.db in the working directory)")
    p.add_argument("--experiment-name", help="MLflow experiment name (default: the experiment's)")
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
    run.add_argument("--jobs", type=_positive_int, help="parallel worker processes (default: number of cores)")
    run.add_argument("--quick", action="store_true", help="smoke-sized run: 2 seeds, 3 epochs")
    run.add_argument("--quiet", action="store_true", help="no progress output")
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
    ui.add_argument("--port", type=_positive_int, default=5000)
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
    return experiment.map_configs(**changes)


def _command_line() -> str:
    return "python -m bench " + " ".join(shlex.quote(a) for a in sys.argv[1:])


def cmd_list(args) -> int:
    from experiments import EXPERIMENTS, get_experiment
    for name in EXPERIMENTS:
        exp = get_experiment(name)
        print(f"{name}: {exp.description}")
        for arm in exp.arms:
            vs = f"  (vs {arm.compare_to})" if arm.compare_to else ""
            print(f"  {arm.name:<18} {arm.description}{vs}")
    return 0


def cmd_run(args) -> int:
    from .executor import default_jobs
    from .publish import publish
    from .session import run_experiment
    from .tracking import Tracker

    experiment = prepare_experiment(args)
    seeds = args.seeds if args.seeds is not None else list(range(2 if args.quick else 5))
    jobs = args.jobs or default_jobs()
    tracker = Tracker(args.tracking_uri)
    command = _command_line()
    if not args.quiet:
        print(f"{experiment.name}: {len(experiment.arms)} arms x {len(seeds)} seeds on "
              f"{experiment.arms[0].config.dataset}, {jobs} job(s); tracking {tracker.uri}",
              file=sys.stderr)
    parent = run_experiment(experiment, tracker, seeds=seeds, jobs=jobs,
                            experiment_name=args.experiment_name, data_dir=args.data_dir,
                            quiet=args.quiet, command=command)
    publish(tracker, parent, args.results_dir, quiet=args.quiet, command=command)
    return 0


def cmd_report(args) -> int:
    from .publish import publish
    from .report import find_parent_run
    from .tracking import Tracker
    tracker = Tracker(args.tracking_uri)
    parent = args.run_id or find_parent_run(tracker, args.experiment_name or args.experiment,
                                            args.dataset)
    publish(tracker, parent, args.results_dir)
    return 0


def cmd_search(args) -> int:
    from .search.command import cmd_search as run
    return run(args, prepare_experiment, _command_line())


def cmd_worker(args) -> int:
    from .search.command import cmd_worker as run
    return run(args)


def cmd_dashboard(args) -> int:
    from .search.command import cmd_dashboard as run
    return run(args)


def cmd_ui(args) -> int:
    from .ui import serve_ui
    return serve_ui(args.tracking_uri, args.host, args.port)


COMMANDS = {"list": cmd_list, "run": cmd_run, "report": cmd_report, "ui": cmd_ui,
            "search": cmd_search, "worker": cmd_worker, "dashboard": cmd_dashboard}


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
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
        if isinstance(exc, Interrupted):
            print(f"bench: {exc}", file=sys.stderr)
            return 130
        raise
