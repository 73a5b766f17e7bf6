"""The ``search``, ``worker`` and ``dashboard`` commands."""

from __future__ import annotations

import os
import sys

from .. import arguments as A
from ..planning import experiment_options, is_default_run, plan_seeds, prepare_experiment
from .lr_grid import OPTIONS as LR_GRID_OPTIONS
from .study import PRUNERS, SAMPLERS

__all__ = ["add_search_commands", "plan_search", "cmd_search", "cmd_worker", "cmd_dashboard",
           "search_kind", "DEFAULTS"]

# The default budget, whose tables are committed (the README's "Where results go").
DEFAULTS = {"trials": 20, "sampler": "tpe", "pruner": "median", "seed": 0, "studies": 3,
            "space": "lr"}
SPACE_NAMES = ("lr", "full")
QUICK = {"trials": 3, "studies": 1}  # --quick: a smoke test of the pipeline (under a minute)
QUICK_NOTE = ("note: a --quick search is a smoke test (3 epochs, 2 seeds, a few trials, one "
              "study): quick budgets are not evidence about the arms or about tuning")
STORAGE_HELP = ("Optuna storage: a .journal file (default optuna.journal), sqlite:///PATH or "
                "postgresql://USER@HOST/DB")


def add_search_commands(sub, option_owners: dict[str, list]) -> None:
    """``search``, ``worker`` and ``dashboard``; ``option_owners`` are the experiments'
    declared options (lr-grid's among them), offered as flags of ``search``."""
    s = sub.add_parser("search", help="tune every arm with the same Optuna budget, then re-seed the best",
                       epilog=A.examples(
                           "python -m bench search ablation --trials 20",
                           "python -m bench search ablation --quick --arms momentum,glorot"))
    s.add_argument("experiment", help="experiment name, experiment file (NAME.toml, its arms' "
                                      "search spaces apply with --space full), or lr-grid (notebook 003's grid)")
    s.add_argument("--trials", type=A.positive_int, default=None,
                   help=f"trials per study (default {DEFAULTS['trials']}; {QUICK['trials']} "
                        "with --quick)")
    s.add_argument("--timeout", type=float, help="seconds per arm (optional)")
    s.add_argument("--sampler", choices=SAMPLERS, default=DEFAULTS["sampler"],
                   help=f"Optuna sampler (default {DEFAULTS['sampler']})")
    s.add_argument("--pruner", choices=PRUNERS, default=DEFAULTS["pruner"],
                   help=f"Optuna pruner (default {DEFAULTS['pruner']})")
    s.add_argument("--storage", help=STORAGE_HELP)
    s.add_argument("--study-prefix", default="", help="prefix for study names (start fresh studies)")
    s.add_argument("--studies", type=A.positive_int, default=None,
                   help=f"independent studies per arm, each with the full trial budget and its "
                        f"own sampler seed (default {DEFAULTS['studies']}; 1 with --quick)")
    s.add_argument("--space", choices=SPACE_NAMES, default=DEFAULTS["space"],
                   help="lr: the learning rate alone for every arm (log-uniform 1e-3..1); "
                        f"full: each arm's own knobs (default {DEFAULTS['space']})")
    s.add_argument("--jobs", type=A.positive_int, default=None,
                   help="worker processes per study (default: the number of cores)")
    s.add_argument("--seeds", type=A.seeds, default=None,
                   help="re-seed the best configs over these seeds (default 5, or a list like 0,3,7)")
    s.add_argument("--no-reseed", action="store_true", help="tune only; skip the tuned table")
    s.add_argument("--dataset", help="data set (default: the experiment's; mnist-5k works offline)")
    s.add_argument("--data-dir", help="directory holding data files (also $BENCH_DATA_DIR)")
    s.add_argument("--epochs", type=A.positive_int, help="override every arm's epoch count")
    s.add_argument("--arms", type=A.csv(str), help="comma-separated subset of arms")
    A.add_set(s)
    s.add_argument("--quick", action="store_true",
                   help=f"smoke-sized: 3 epochs, 2 seeds, {QUICK['trials']} trials, 1 study")
    s.add_argument("--quiet", action="store_true",
                   help="no progress output (tables and where they went are still printed)")
    s.add_argument("--json", action="store_true", help="print the tuned table as JSON on stdout")
    A.add_experiment_options(s, option_owners)
    s.add_argument("--seed", type=int, default=DEFAULTS["seed"],
                   help=f"sampler seed (default {DEFAULTS['seed']})")
    A.add_tracking(s)

    w = sub.add_parser("worker", help="take runs of `bench run --storage` (or trials of a "
                       "search's study) from another machine",
                       description="Take runs from the run queues of `bench run --storage URL` "
                       "until none is waiting\nor running, then exit 0. No --tracking-uri: the "
                       "queue names the coordinator's MLflow\nserver. With --study, take "
                       "trials of that search's study instead.",
                       epilog=A.examples(
                           "python -m bench worker --storage postgresql://bench@db-host/bench",
                           "python -m bench worker --study ablation.mnist-5k.momentum "
                           "--storage postgresql://bench@db-host/bench"))
    w.add_argument("--study", help="a search's study, <experiment>.<dataset>.<arm> (as `bench "
                   "search` made it); without it the worker takes runs from the storage's run "
                   "queues (`bench run --storage`)")
    w.add_argument("--storage", metavar="URL", required=True, help="the Optuna storage holding the study or "
                   "the run queue (as given to `bench search` / `bench run`)")
    w.add_argument("--wait", action="store_true",
                   help="run queues: wait for new runs even when every queue is empty (a "
                        "standing worker; by default only a storage with no queue yet is "
                        "waited for)")
    w.add_argument("--trials", type=A.positive_int, help="at most this many trials or runs "
                   "(default: until the budget is spent or the queue is empty)")
    w.add_argument("--timeout", type=float, help="take no new run or trial after this many "
                   "seconds (default: no limit)")

    d = sub.add_parser("dashboard", help="open optuna-dashboard for a storage",
                       epilog=A.examples("python -m bench dashboard",
                                         "python -m bench dashboard --storage sqlite:///optuna.db "
                                         "--port 8081"))
    d.add_argument("--storage", default=None, help=STORAGE_HELP)
    d.add_argument("--host", default="127.0.0.1",
                   help="address to bind (default 127.0.0.1). Anything else exposes the studies "
                        "to the network without authentication")
    d.add_argument("--port", type=A.port, default=8080, help="port to listen on (default 8080)")


def search_kind(args, experiment, seeds) -> str:
    """``default`` only for the experiment's full default configuration searched with the
    default budget, sampler, pruner and seed (the search whose tables are committed)."""
    from ..locations import run_kind
    budget = (all(getattr(args, k, v) == v for k, v in DEFAULTS.items())
              and args.timeout is None)
    default = (args.experiment != "lr-grid" and budget
               and is_default_run(args, experiment, seeds))
    return run_kind(args.quick, default)


def plan_search(args):
    """Check the experiment and its options (lr-grid's are its own) before any store is."""
    for key in ("trials", "studies"):  # a smaller budget for --quick, unless one is given
        if getattr(args, key, None) is None:
            setattr(args, key, (QUICK if args.quick else DEFAULTS)[key])
    if args.dataset and "," in args.dataset:  # every data set checked before any runs
        import copy

        from ..across import split_datasets
        for name in split_datasets(args.dataset):
            single = copy.copy(args)
            single.dataset = name
            plan_search(single)
        return None
    if args.experiment == "lr-grid":
        experiment_options(args, "lr-grid", {"lr-grid": LR_GRID_OPTIONS})
        return None
    return prepare_experiment(args)


def cmd_search(args, command: str) -> int:
    if args.dataset and "," in args.dataset:  # one search per data set, then the summary across
        from ..across import for_each_dataset, is_default_dir, write_across
        done = for_each_dataset(args, lambda single: _search_one(single, command))
        if all("summary" in r for r in done.values()):
            write_across(args.experiment, {d: r["summary"] for d, r in done.items()},
                         args.results_dir, command,
                         times={d: _target_times(r["runs"], list(r["summary"]["arm"]))
                                for d, r in done.items()},
                         default=all(is_default_dir(r["out_dir"], args.experiment, d)
                                     for d, r in done.items()))
        return 0
    _search_one(args, command)
    return 0


def _target_times(runs, arms: list[str]) -> dict[str, float]:
    """Per arm, the median epochs to target of its finished runs (inf when censored)."""
    import math

    from ..targets import censored_median
    out = {}
    done = runs[runs["status"] == "FINISHED"]
    for arm in arms:
        rows = done[done["arm"] == arm]
        known = rows[rows["target_reached"].notna()]
        value, censored = censored_median(known["target_epoch"], known["target_reached"].astype(bool),
                                          known["epochs_run"])
        out[arm] = math.inf if censored or math.isnan(value) else value
    return out


def _search_one(args, command: str) -> dict:
    from ..tracking import Tracker
    from .report import write_search_report
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
        # A file's declared spaces are its arms' full spaces: `--space lr` (the default)
        # tunes the learning rate alone for every arm, so budgets stay comparable.
        spaces = experiment.search_spaces if args.space == "full" else None
        if experiment.search_spaces and args.space != "full" and not args.quiet:
            print(f"search: --space {args.space} tunes the learning rate only; the search spaces "
                  f"{experiment.name} declares apply with --space full", file=sys.stderr)
        sampler, trials = args.sampler, args.trials
    seeds = plan_seeds(args)
    if args.jobs is None:
        from ..executor import default_jobs
        args.jobs = default_jobs()
    studies = 1 if args.experiment == "lr-grid" else args.studies
    space = "full" if args.experiment == "lr-grid" else args.space
    if args.jobs > 1 and search_pending(experiment, trials, args.storage, args.study_prefix,
                                        studies, space):
        start_worker_server()  # the workers' imports then overlap with this process's
    tracker = Tracker(args.tracking_uri)
    search_run, outcomes = run_search(
        experiment, tracker, trials=trials, storage_url=args.storage, jobs=args.jobs,
        timeout=args.timeout, sampler=sampler, pruner=args.pruner, seed=args.seed,
        study_prefix=args.study_prefix, experiment_name=args.experiment_name,
        data_dir=getattr(args, "data_dir", None), spaces=spaces, grids=grids,
        objective=objective, quiet=args.quiet, studies=studies, space=space)
    from ..locations import place
    dataset = experiment.arms[0].config.dataset
    kind = search_kind(args, experiment, seeds)
    subdir = place(tracker, search_run, experiment.name, dataset, kind)
    out_dir = os.path.join(args.results_dir, subdir)
    title = f"search: {experiment.name} on {dataset}"
    if args.experiment == "lr-grid":
        report = write_search_report(tracker, search_run, outcomes, args.storage, out_dir,
                                     trials, title, objective, quick=args.quick)
        from .lr_grid import write_heatmap
        write_heatmap(tracker, search_run, outcomes[0], args.storage, out_dir)
        return {"out_dir": out_dir}
    finals = {}
    if not args.no_reseed:
        from .tuned import reseed
        finals = reseed(args, experiment, outcomes, tracker, seeds, kind, subdir, command,
                        trials, out_dir)
    report = write_search_report(tracker, search_run, outcomes, args.storage, out_dir, trials,
                                 title, objective, quick=args.quick, p_best=finals.get("p_best"))
    print(f"search report: {report['path']}", file=sys.stderr)
    if report["caveat"]:
        print(report["caveat"], file=sys.stderr)
    if args.quick:
        print(QUICK_NOTE, file=sys.stderr)
    return {**finals, "out_dir": out_dir}


def cmd_worker(args) -> int:
    from .worker import run_worker
    ran = run_worker(args.study, args.storage, args.trials, args.timeout)
    print(f"worker ran {ran} trial(s) of {args.study}", file=sys.stderr)
    return 0


def cmd_dashboard(args) -> int:
    """The real optuna-dashboard, in this process, on the storage the studies are in (the
    CLI has checked that the storage exists and the port is free)."""
    try:
        import optuna_dashboard
    except ImportError:
        raise ValueError("optuna-dashboard is not installed: pip install -e '.[dashboard]'") from None
    from .storage import describe_storage, open_storage
    storage = open_storage(args.storage)
    from ..ui import warn_if_exposed
    # In this process: the storage URL (maybe with a password) never reaches a child's argv.
    print(f"optuna-dashboard for {describe_storage(args.storage)} at "
          f"http://{args.host}:{args.port} (Ctrl-C to stop)", file=sys.stderr, flush=True)
    warn_if_exposed(args.host, "every study and trial (optuna-dashboard has no authentication)")
    try:
        optuna_dashboard.run_server(storage, host=args.host, port=args.port)
    except KeyboardInterrupt:
        pass
    return 0
