"""What a command will run, decided before anything is opened: the experiment with its
options and overrides, the seeds, the worker count. The CLI and the benchmarks both plan
through here, so neither needs the other.

Every name and value is checked here (or by the config it builds), so a bad one fails as a
:class:`UsageError` or ``ValueError`` before any store, directory or data file is touched.
"""

from __future__ import annotations

import math
import os

from experiments import (EXPERIMENTS, Experiment, ExperimentFile, Option, get_protocol,
                         is_file_reference, resolve_experiment)

from .executor import default_jobs

__all__ = ["UsageError", "MAX_SEEDS", "MAX_JOBS", "default_seeds", "experiment_options",
           "option_owners", "prepare_experiment", "run_plan", "check_data_choices", "precision_plan",
           "DEFAULT_MAX_SEEDS", "run_label", "definition_of", "plan_seeds", "is_default_run",
           "overrides"]

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


def definition_of(args) -> ExperimentFile:
    """The experiment ``args.experiment`` names (registered) or points to (a file), with
    its declared options, before any arm subset or override."""
    options = experiment_options(args, args.experiment)
    if not is_file_reference(args.experiment) and args.experiment not in EXPERIMENTS:
        raise UsageError(f"unknown experiment {args.experiment!r}; valid: {', '.join(EXPERIMENTS)}"
                         ", or the path of an experiment file (NAME.toml)")
    return resolve_experiment(args.experiment, **options)


# The older flags that set one field on every arm: shorthands of --set FIELD=VALUE.
SHORTHANDS = {"epochs": "--epochs", "batch_size": "--batch-size", "lr": "--lr"}


def overrides(args) -> dict:
    """``--set FIELD=VALUE`` and its shorthands as config changes; a field given twice is a
    :class:`UsageError` (which one was meant?)."""
    given: dict[str, tuple[str, object]] = {}
    pairs = [(f"{flag} {getattr(args, name)}", name, getattr(args, name))
             for name, flag in SHORTHANDS.items() if getattr(args, name, None)]
    pairs += [(f"--set {name}={value!r}", name, value) for name, value in getattr(args, "set", None) or []]
    for said, name, value in pairs:
        if name in given:
            raise UsageError(f"{name} is set twice ({given[name][0]} and {said}); give it once")
        given[name] = (said, value)
    return {name: value for name, (_, value) in given.items()}


def prepare_experiment(args) -> Experiment:
    """The experiment named on the command line with its overrides applied (and validated)."""
    from .datasets import DATASETS
    if args.dataset is not None and args.dataset not in DATASETS:
        raise UsageError(f"unknown dataset {args.dataset!r}; valid: {', '.join(DATASETS)}")
    experiment = definition_of(args).experiment.select(args.arms)
    changes = {}
    if args.dataset:
        changes["dataset"] = args.dataset
    if getattr(args, "protocol", None):
        protocol = get_protocol(args.protocol)
        changes.update(eval_every=protocol.eval_every, patience=protocol.patience)
    if args.quick:
        changes.update(epochs=3, eval_every=1)
    changes.update(overrides(args))
    for arm in experiment.arms:  # one arm at a time, so that a bad combination names its arm
        try:
            arm.config.replace(**changes)
        except ValueError as exc:
            raise UsageError(f"arm {arm.name!r} of {experiment.name}: {exc}") from None
    experiment = experiment.map_configs(**changes)
    check_data_choices(experiment)
    return experiment


def plan_seeds(args) -> list[int]:
    """``--seeds``; else 2 seeds for ``--quick``; else the experiment file's; else 0..4."""
    if args.seeds is not None:
        return list(args.seeds)
    if args.quick:
        return default_seeds(quick=True)
    # Only a file declares seeds (the registered experiments take the default).
    declared = definition_of(args).seeds if is_file_reference(args.experiment) else None
    return list(declared) if declared is not None else default_seeds()


def is_default_run(args, experiment: Experiment, seeds: list[int]) -> bool:
    """``experiment`` with ``seeds`` is exactly the full default run of what the command
    line names: a registered experiment with no options, or an experiment file as written
    (whose name, if it is a registered one's, must also match that one). A replayed run's
    resolved configuration never is one: its folder is its own."""
    from .locations import is_default_experiment
    definition = definition_of(args)
    if definition.replay_of:
        return False
    registered = experiment.name in EXPERIMENTS
    if registered and not is_default_experiment(experiment, seeds, default_seeds()):
        return False
    if not definition.path:
        return registered
    declared = list(definition.seeds) if definition.seeds is not None else default_seeds()
    return is_default_experiment(experiment, seeds, declared, definition.experiment)


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
    first = plan_seeds(args)
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
    parts += [f"{name}={value}" for name, value in getattr(args, "set", None) or []]
    return ", ".join(parts)


def run_plan(args) -> tuple[Experiment, list[int], int]:
    """The experiment, seeds and worker count ``bench run`` uses for ``args`` (also what the
    harness benchmark measures for ``run ablation``)."""
    experiment = prepare_experiment(args)
    return experiment, plan_seeds(args), args.jobs or default_jobs()
