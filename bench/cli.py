"""Run seeded ablation studies, rebuild their tables from MLflow, tune every arm, browse the runs.

Bad input exits with status 2 and a one-line message before any work is done: every option
is checked, and the tracking store, Optuna storage, data and results directories are checked
(without creating anything) before a store is opened. Exit status 130 means an interrupt:
open runs are marked KILLED. 75 means try again: the tracking store went away for longer than
its retry budget (runs it could not be told about stay RUNNING in it until the next start,
or `bench doctor --fix`, marks them KILLED), or a worker process died and its run is missing.
Either way the same command resumes. 1 with one line: an output file could not be written.
"""

from __future__ import annotations

import shlex
import sys

from .parser import DISTRIBUTION, build_parser, version
from .planning import MAX_JOBS, UsageError, precision_plan, run_label, run_plan

__all__ = ["main", "build_parser", "UsageError", "version", "DISTRIBUTION"]


def _preflight(args, storage: bool = False) -> None:
    """Every store and directory the command will use, checked before any is touched."""
    from .checks import check_data_dir, check_optuna_storage, check_results_dir, check_tracking_uri
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
    """The invocation as typed (``main(argv)``'s own arguments, not the host program's), with
    any password in a URL redacted: it goes to tags, table notes and logs."""
    from .redaction import redact_text
    return redact_text("python -m bench " + " ".join(shlex.quote(a) for a in args.argv))


def cmd_list(args) -> int:
    from .userfiles import field_lines, list_lines
    print("\n".join(field_lines() if args.fields else list_lines(args.files)))
    return 0


def cmd_init(args) -> int:
    from .userfiles import write_template
    print(f"wrote {write_template(args.path)}: `python -m bench run {args.path}` runs it",
          file=sys.stderr)
    return 0


def cmd_rerun(args) -> int:
    """The run's logged config.toml, run as an experiment file (one arm, one seed)."""
    import tempfile
    from .inputs import require_tracking_store
    from .replay import fetch_config
    from .tracking import Tracker, resolve_tracking_uri
    _preflight(args)
    require_tracking_store(resolve_tracking_uri(args.tracking_uri), "rerun")
    with tempfile.TemporaryDirectory(prefix="bench-rerun-") as folder:
        path = fetch_config(Tracker(args.tracking_uri), args.run_id, folder)
        forwarded = [f"--{k.replace('_', '-')}={v}" for k, v in vars(args).items()
                     if k in ("data_dir", "tracking_uri", "experiment_name", "results_dir")
                     and v is not None]
        forwarded += [f"--{k}" for k in ("quiet", "json") if getattr(args, k)]
        run_args = build_parser().parse_args(["run", path, "--jobs=1", *forwarded])
        run_args.argv = args.argv
        return cmd_run(run_args)


def cmd_run(args) -> int:
    if args.dataset and "," in args.dataset:  # one run per data set, then the summary across
        from .across import for_each_dataset, is_default_dir, write_across
        done = for_each_dataset(args, _run_one)
        write_across(args.experiment, {d: r["summary"] for d, r in done.items()},
                     args.results_dir, _command_line(args),
                     default=all(is_default_dir(r["out_dir"], args.experiment, d)
                                 for d, r in done.items()))
        return 0
    _run_one(args)
    return 0


def _run_one(args) -> dict:
    from .checks import redact
    experiment, seeds, jobs = run_plan(args)
    precision = precision_plan(args)
    queue = None
    if args.storage is not None:
        from .queue.cli import check_queue_storage
        check_queue_storage(args.storage)
    _preflight(args, storage=args.storage is not None)  # before the heavy imports below
    if args.storage is not None:
        from .queue import SharedQueue
        queue = SharedQueue(args.storage)

    from .runner import load_data
    # The data next (kept for the runs): a corrupt file is the only line printed.
    cfg0 = experiment.arms[0].config
    load_data(cfg0.dataset, 0, cfg0.standardize, args.data_dir, cfg0.dtype)

    from .locations import place, run_kind
    from .planning import is_default_run
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
                            run_plots=args.run_plots, precision=precision,
                            label=run_label(args, seeds), queue=queue)
    default = precision is None and is_default_run(args, experiment, seeds)
    place(tracker, parent, experiment.name, cfg0.dataset, run_kind(args.quick, default))
    published = publish(tracker, parent, args.results_dir, quiet=args.quiet, command=command,
                        as_json=args.json)
    _smoke_note(args.quick)
    if not args.quiet and tracker.uri.startswith(("http://", "https://")):
        exp_id = tracker.client.get_run(parent).info.experiment_id
        print(f"parent run at {redact(tracker.uri).rstrip('/')}/#/experiments/{exp_id}/runs/"
              f"{parent}", file=sys.stderr)
    return published


def _smoke_note(quick: bool) -> None:
    from .locations import SMOKE_NOTE
    if quick:
        print(SMOKE_NOTE, file=sys.stderr)


def cmd_report(args) -> int:
    from . import tags as T
    from .inputs import require_parent_run, require_tracking_store
    from .locations import QUICK, describe
    from .publish import publish
    from .report import load_structure
    from .store import find_parent_run
    from .tracking import Tracker, resolve_tracking_uri
    _preflight(args)
    require_tracking_store(resolve_tracking_uri(args.tracking_uri), "report")
    from experiments import is_file_reference, load_file
    if is_file_reference(args.experiment):  # an experiment file: report it by its name
        args.experiment = load_file(args.experiment).experiment.name
    tracker = Tracker(args.tracking_uri)
    if args.run_id:
        run = require_parent_run(tracker, args.run_id)
    else:
        run = tracker.client.get_run(find_parent_run(
            tracker, args.experiment_name or args.experiment, args.dataset, kind=args.kind,
            variant="tuned" if args.tuned else "as-specified"))
    print(describe(run, load_structure(tracker, run.info.run_id)), file=sys.stderr)
    publish(tracker, run.info.run_id, args.results_dir, as_json=args.json)
    _smoke_note(run.data.tags.get(T.CONFIG_KIND) == QUICK)
    return 0


def cmd_search(args) -> int:
    from .search import command
    _check_timeout(args)
    if not 0 <= args.seed < 2**32:
        raise UsageError(f"argument --seed: expected an integer in [0, 2**32), got {args.seed}")
    if args.jobs is not None and args.jobs > MAX_JOBS:
        raise UsageError(f"argument --jobs: expected at most {MAX_JOBS}, got {args.jobs}")
    command.plan_search(args)  # bad names and values fail here, before any store is checked
    _preflight(args, storage=True)
    return command.cmd_search(args, _command_line(args))


def cmd_worker(args) -> int:
    from .inputs import require_optuna_storage
    from .queue.cli import cmd_queue_worker, is_run_queue
    from .search import command
    _check_timeout(args)
    _preflight(args, storage=True)
    require_optuna_storage(args.storage)  # opening a missing journal would create it
    if args.study is None or is_run_queue(args.study):  # runs of `bench run --storage`
        return cmd_queue_worker(args)
    return command.cmd_worker(args)


def cmd_dashboard(args) -> int:
    from .inputs import require_free_port, require_optuna_storage
    from .search import command
    from .search.storage import DEFAULT_STORAGE
    _preflight(args, storage=True)
    args.storage = args.storage or DEFAULT_STORAGE
    require_optuna_storage(args.storage)
    require_free_port(args.host, args.port)
    return command.cmd_dashboard(args)


def cmd_ui(args) -> int:
    from .inputs import require_free_port, require_tracking_store
    from .tracking import resolve_tracking_uri
    from .ui import serve_ui
    _preflight(args)
    uri = resolve_tracking_uri(args.tracking_uri)
    if uri.startswith(("http://", "https://")):  # a second server in front of it would crash
        from .redaction import redact
        raise UsageError(f"{redact(uri)} is an MLflow tracking server and serves the UI itself: "
                         "open it in a browser (`bench ui` serves a local store)")
    require_tracking_store(uri, "ui")
    require_free_port(args.host, args.port)
    return serve_ui(args.tracking_uri, args.host, args.port, verbose=args.verbose)


def cmd_doctor(args) -> int:
    from .doctor import doctor
    from .inputs import require_tracking_store
    from .tracking import resolve_tracking_uri
    require_tracking_store(resolve_tracking_uri(args.tracking_uri), "doctor")
    return doctor(args.tracking_uri, args.experiment_name, fix=args.fix,
                  include_unknown=args.include_unknown)


COMMANDS = {"list": cmd_list, "init": cmd_init, "rerun": cmd_rerun, "run": cmd_run, "report": cmd_report, "ui": cmd_ui,
            "search": cmd_search, "worker": cmd_worker, "dashboard": cmd_dashboard,
            "doctor": cmd_doctor}


def one_line(exc: BaseException) -> str:
    """The whole message on one line: an error that lists where to put a file must not lose
    the list (its lines are joined, never cut)."""
    text = " ".join(part.strip() for part in str(exc).splitlines() if part.strip())
    from .redaction import redact_text
    return redact_text(text) or type(exc).__name__


def main(argv: list[str] | None = None) -> int:
    from .progress import quiet_library_noise
    from .redaction import install_log_redaction
    install_log_redaction()
    quiet_library_noise()  # before MLflow is imported: no tqdm bars, no alembic INFO lines
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        if args.command is None:  # bare `bench`: what it can do
            parser.print_help()
            return 0
        args.argv = sys.argv[1:] if argv is None else list(argv)
        return COMMANDS[args.command](args)
    except UsageError as exc:
        print(f"bench: error: {one_line(exc)}", file=sys.stderr)
        return 2
    except ValueError as exc:  # invalid values found while building configs or data
        print(f"bench: error: {one_line(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("bench: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        from .executor import RunsLost
        from .redaction import redact_text
        from .report import NotWritten
        from .session import Interrupted
        from .tracking import TrackingUnavailable
        if isinstance(exc, Interrupted):
            print(f"bench: {exc}", file=sys.stderr)
            return 130
        if isinstance(exc, (TrackingUnavailable, RunsLost)):
            print(f"bench: error: {redact_text(str(exc))}", file=sys.stderr)
            return 75  # EX_TEMPFAIL: try again later; the same command resumes
        if isinstance(exc, NotWritten):
            print(f"bench: error: {redact_text(str(exc))}", file=sys.stderr)
            return 1
        raise
