"""The ``search``, ``worker`` and ``dashboard`` commands."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys

from .. import arguments as A
from ..planning import default_seeds, experiment_options, prepare_experiment
from .lr_grid import OPTIONS as LR_GRID_OPTIONS
from .study import PRUNERS, SAMPLERS

__all__ = ["add_search_commands", "plan_search", "cmd_search", "cmd_worker", "cmd_dashboard"]


def add_search_commands(sub, option_owners: dict[str, list]) -> None:
    """``search``, ``worker`` and ``dashboard``; ``option_owners`` are the experiments'
    declared options (lr-grid's among them), offered as flags of ``search``."""
    s = sub.add_parser("search", help="tune every arm with the same Optuna budget, then re-seed the best")
    s.add_argument("experiment", help="experiment name, or lr-grid (notebook 003's grid)")
    s.add_argument("--trials", type=A.positive_int, default=20, help="trials per arm (default 20)")
    s.add_argument("--timeout", type=float, help="seconds per arm (optional)")
    s.add_argument("--sampler", choices=SAMPLERS, default="tpe")
    s.add_argument("--pruner", choices=PRUNERS, default="median")
    s.add_argument("--storage", help="Optuna storage: a .journal file (default optuna.journal), "
                   "sqlite:///PATH or postgresql://USER@HOST/DB")
    s.add_argument("--study-prefix", default="", help="prefix for study names (start fresh studies)")
    s.add_argument("--jobs", type=A.positive_int, default=1, help="worker processes per arm")
    s.add_argument("--seeds", type=A.seeds, default=None, help="re-seed the best configs over these seeds")
    s.add_argument("--no-reseed", action="store_true", help="tune only; skip the tuned table")
    s.add_argument("--dataset")
    s.add_argument("--data-dir")
    s.add_argument("--epochs", type=A.positive_int)
    s.add_argument("--arms", type=A.csv(str))
    s.add_argument("--quick", action="store_true", help="smoke-sized: 3 epochs, 2 seeds")
    s.add_argument("--quiet", action="store_true")
    A.add_experiment_options(s, option_owners)
    s.add_argument("--seed", type=int, default=0, help="sampler seed")
    A.add_tracking(s)

    w = sub.add_parser("worker", help="join an existing study (e.g. from another machine)")
    w.add_argument("--study", required=True)
    w.add_argument("--storage", required=True)
    w.add_argument("--trials", type=A.positive_int, help="at most this many trials (default: until the budget is spent)")
    w.add_argument("--timeout", type=float)

    d = sub.add_parser("dashboard", help="open optuna-dashboard for a storage")
    d.add_argument("--storage", default=None)
    d.add_argument("--host", default="127.0.0.1",
                   help="address to bind (default 127.0.0.1). Anything else exposes the studies "
                        "to the network without authentication")
    d.add_argument("--port", type=A.positive_int, default=8080)


def _config_hash(experiment, seeds) -> str:
    blob = json.dumps(experiment.arm_configs() + [seeds], sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def plan_search(args):
    """Check the experiment and its options (lr-grid's are its own) before any store is."""
    if args.experiment == "lr-grid":
        experiment_options(args, "lr-grid", {"lr-grid": LR_GRID_OPTIONS})
        return None
    return prepare_experiment(args)


def cmd_search(args, command: str) -> int:
    from ..tracking import Tracker
    from .report import write_search_report
    from .outcome import tuned_experiment
    from .run import run_search, search_pending, start_worker_server

    # Reading a run's artifacts back (the tables) must not draw a progress bar per file.
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    spaces = grids = None
    objective = "val_loss"
    if args.experiment == "lr-grid":
        from .lr_grid import lr_grid_setup
        experiment, spaces, grids = lr_grid_setup(args)
        objective = "train_loss"
        args.pruner = "none"  # every cell runs to the end: the map needs final losses
        if args.zipped:  # the pairs are queued in each study: one trial per pair
            sampler = "zipped"
            trials = max(len(g["pairs"]) for g in grids.values())
        else:
            sampler = "grid"
            trials = max(len(g["lr"]) * len(g.get("weight_scale", [None])) for g in grids.values())
    else:
        experiment = prepare_experiment(args)
        sampler, trials = args.sampler, args.trials
    seeds = args.seeds if args.seeds is not None else default_seeds(args.quick)
    if args.jobs > 1 and search_pending(experiment, trials, args.storage, args.study_prefix):
        start_worker_server()  # the workers' imports then overlap with this process's
    tracker = Tracker(args.tracking_uri)
    search_run, outcome = run_search(
        experiment, tracker, trials=trials, storage_url=args.storage, jobs=args.jobs,
        timeout=args.timeout, sampler=sampler, pruner=args.pruner, seed=args.seed,
        study_prefix=args.study_prefix, experiment_name=args.experiment_name,
        data_dir=getattr(args, "data_dir", None), spaces=spaces, grids=grids,
        objective=objective, quiet=args.quiet)
    dataset = experiment.arms[0].config.dataset
    out_dir = os.path.join(args.results_dir, experiment.name, dataset)
    report = write_search_report(tracker, search_run, outcome, args.storage, out_dir, trials,
                                 f"search: {experiment.name} on {dataset}", objective)
    if args.experiment == "lr-grid":
        from .lr_grid import write_heatmap
        write_heatmap(tracker, search_run, outcome, args.storage, out_dir)
        return 0
    if not args.no_reseed:
        from ..publish import publish  # imports scipy: only when re-seeding
        from ..session import run_experiment
        tuned = tuned_experiment(experiment, outcome)
        parent = run_experiment(tuned, tracker, seeds=seeds, jobs=max(args.jobs, 1),
                                experiment_name=args.experiment_name, data_dir=args.data_dir,
                                quiet=args.quiet, command=command, variant="tuned",
                                run_key=f"tuned-{_config_hash(tuned, seeds)}")
        budget = "; ".join(f"{arm}: {info.counted} trials, {info.seconds:.0f}s"
                           for arm, info in outcome.items())
        publish(tracker, parent, args.results_dir, quiet=args.quiet, command=command,
                extra_notes=[f"Each arm tuned with {trials} Optuna trials ({args.sampler} sampler, "
                             f"{args.pruner} pruner) on validation loss, then its best configuration "
                             f"re-trained over the seeds above and scored once on the test set. "
                             f"Budget spent: {budget}. See search.md."])
    if not args.quiet:
        print(f"search report: {report['path']}", file=sys.stderr)
    return 0


def cmd_worker(args) -> int:
    from .worker import run_worker
    ran = run_worker(args.study, args.storage, args.trials, args.timeout)
    print(f"worker ran {ran} trial(s) of {args.study}", file=sys.stderr)
    return 0


DASHBOARD_STORAGE_ENV = "BENCH_DASHBOARD_STORAGE"
DASHBOARD_BOOT = ("import os, sys; from optuna_dashboard._cli import main; "
                  f"sys.argv[:1] = ['optuna-dashboard', os.environ.pop({DASHBOARD_STORAGE_ENV!r})]; "
                  "main()")


def cmd_dashboard(args) -> int:
    from .storage import DEFAULT_STORAGE
    storage = args.storage or DEFAULT_STORAGE
    if storage.endswith(".journal") and not os.path.exists(storage):
        raise ValueError(f"no storage file {storage!r}; run `python -m bench search` first")
    try:
        import optuna_dashboard  # noqa: F401
    except ImportError:
        raise ValueError("optuna-dashboard is not installed: pip install optuna-dashboard") from None
    from ..redaction import redact
    from ..ui import warn_if_exposed
    # The storage URL (maybe with a password) goes through the environment, not argv, which
    # `ps` shows to every user: the child puts it back into optuna-dashboard's own argv.
    cmd = [sys.executable, "-c", DASHBOARD_BOOT, "--host", args.host, "--port", str(args.port)]
    print(f"optuna-dashboard for {redact(storage)} at http://{args.host}:{args.port} "
          "(Ctrl-C to stop)", file=sys.stderr, flush=True)
    warn_if_exposed(args.host, "every study and trial (optuna-dashboard has no authentication)")
    try:
        return subprocess.call(cmd, env={**os.environ, DASHBOARD_STORAGE_ENV: storage})
    except KeyboardInterrupt:
        return 0
