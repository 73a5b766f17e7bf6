"""What a command will run, decided before anything is opened: the experiment with its
options and overrides, the seeds, the worker count. The CLI and the benchmarks both plan
through here, so neither needs the other.

Every name and value is checked here (or by the config it builds), so a bad one fails as a
:class:`UsageError` or ``ValueError`` before any store, directory or data file is touched.
"""

from __future__ import annotations

import math
import os

from experiments import EXPERIMENTS, Experiment, Option, get_experiment, get_protocol

from .executor import default_jobs

__all__ = ["UsageError", "MAX_SEEDS", "MAX_JOBS", "default_seeds", "experiment_options",
           "option_owners", "prepare_experiment", "run_plan", "check_data_choices", "precision_plan",
           "DEFAULT_MAX_SEEDS", "run_label"]

MAX_SEEDS = 10_000
DEFAULT_MAX_SEEDS = 30   # --precision's cap unless --max-seeds says otherwise
MAX_JOBS = max(256, 4 * (os.cpu_count() or 1))


class UsageError(Exception):
    """A bad command-line value; reported in one line with exit status 2."""


def default_seeds(quick: bool = False) -> list[int]:
    """Seeds 0..4, or 0..1 for a smoke-sized (``--quick``) run."""
    return list(range(2 if quick else 5))


def option_owners(extra: dict[str, tuple[Option, ...]] | None = None) -> dict[str, list]:
    """Every declared experiment option by name: ``{name: [(Option, experiment), ...]}``.
    ``extra`` adds experiments registered elsewhere (the search's lr-grid)."""
    owners: dict[str, list] = {}
    declared = {name: entry.options for name, entry in EXPERIMENTS.items()}
    for experiment, options in {**declared, **(extra or {})}.items():
        for option in options:
            owners.setdefault(option.name, []).append((option, experiment))
    return owners


def experiment_options(args, experiment: str,
                       extra: dict[str, tuple[Option, ...]] | None = None) -> dict:
    """The options of ``experiment`` given on the command line, as factory keywords; an
    option of another experiment is a :class:`UsageError` naming the experiment it is for."""
    chosen, foreign = {}, {}
    for name, owners in option_owners(extra).items():
        value = getattr(args, name, None)
        if value is None or value is False or value == []:
            continue
        mine = [o for o, exp in owners if exp == experiment]
        if mine:
            chosen[name] = tuple(value) if mine[0].many else value
        else:
            foreign[owners[0][0].flag] = ", ".join(sorted({exp for _, exp in owners}))
    if foreign:
        where = " / ".join(sorted(set(foreign.values())))
        raise UsageError(f"{'/'.join(foreign)} apply to the {where} experiment only")
    return chosen


def check_data_choices(experiment: Experiment) -> None:
    """Each arm's data set and scaling are registered ones (the definitions layer does not
    know the harness's data sets, so they are checked here, once, before anything runs)."""
    from .datasets import check_dataset
    from .datasets.preprocess import check_standardize
    for arm in experiment.arms:
        check_dataset(arm.config.dataset)
        check_standardize(arm.config.standardize)


def prepare_experiment(args) -> Experiment:
    """The experiment named on the command line with its overrides applied (and validated)."""
    from .datasets import DATASETS
    if args.experiment not in EXPERIMENTS:
        raise UsageError(f"unknown experiment {args.experiment!r}; valid: {', '.join(EXPERIMENTS)}")
    if args.dataset is not None and args.dataset not in DATASETS:
        raise UsageError(f"unknown dataset {args.dataset!r}; valid: {', '.join(DATASETS)}")
    options = experiment_options(args, args.experiment)
    experiment = get_experiment(args.experiment, **options).select(args.arms)
    changes = {}
    if args.dataset:
        changes["dataset"] = args.dataset
    if getattr(args, "protocol", None):
        protocol = get_protocol(args.protocol)
        changes.update(eval_every=protocol.eval_every, patience=protocol.patience)
    if args.quick:
        changes.update(epochs=3, eval_every=1)
    if args.epochs:
        changes["epochs"] = args.epochs
    if getattr(args, "batch_size", None):
        changes["batch_size"] = args.batch_size
    if getattr(args, "lr", None):
        changes["lr"] = args.lr
    experiment = experiment.map_configs(**changes)
    check_data_choices(experiment)
    return experiment


def precision_plan(args):
    """``--precision PP`` (points of accuracy) and ``--max-seeds`` as a :class:`Precision`,
    or ``None`` for a fixed set of seeds."""
    from .adaptive import Precision
    pp, most = getattr(args, "precision", None), getattr(args, "max_seeds", None)
    if pp is None:
        if most is not None:
            raise UsageError("--max-seeds applies with --precision only (a fixed run takes --seeds)")
        return None
    if not (math.isfinite(pp) and 0 < pp <= 100):
        raise UsageError(f"argument --precision: expected a half-width in points of accuracy "
                         f"in (0, 100], got {pp!r}")
    most = DEFAULT_MAX_SEEDS if most is None else most
    first = args.seeds if args.seeds is not None else default_seeds(args.quick)
    if most < max(2, len(first)):
        raise UsageError(f"argument --max-seeds: expected at least {max(2, len(first))} (the "
                         f"first round's seeds), got {most}")
    return Precision(pp / 100, most)


def run_label(args, seeds: list[int]) -> str:
    """What sets an invocation apart from the experiment's full default run, in a few words
    (the end of its parent run's name): ``quick``, ``5 seeds``, ``±0.5 pp, notebook protocol``."""
    if getattr(args, "quick", False):
        return "quick"
    parts = ([f"±{args.precision:g} pp"] if getattr(args, "precision", None)
             else [f"{len(seeds)} seed" + ("s" if len(seeds) != 1 else "")])
    if getattr(args, "protocol", None) not in (None, "full"):
        parts.append(f"{args.protocol} protocol")
    if getattr(args, "arms", None):
        parts.append(f"{len(args.arms)} arm" + ("s" if len(args.arms) != 1 else ""))
    if getattr(args, "epochs", None):
        parts.append(f"{args.epochs} epochs")
    return ", ".join(parts)


def run_plan(args) -> tuple[Experiment, list[int], int]:
    """The experiment, seeds and worker count ``bench run`` uses for ``args`` (also what the
    harness benchmark measures for ``run ablation``)."""
    experiment = prepare_experiment(args)
    seeds = args.seeds if args.seeds is not None else default_seeds(args.quick)
    return experiment, seeds, args.jobs or default_jobs()
