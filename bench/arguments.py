"""Argument types and shared flags of the command line (no command logic here).

Every type raises ``argparse.ArgumentTypeError`` with the value it was given, so a bad flag
is reported in one line naming it (see ``bench.cli``).
"""

from __future__ import annotations

import argparse
import math

from .planning import MAX_SEEDS, UsageError

__all__ = ["Parser", "positive_int", "bounded_int", "port", "positive_float", "nonempty",
           "seeds", "csv", "add_tracking", "add_experiment_options", "examples", "TRACKING_HELP",
           "RESULTS_HELP", "assignment", "add_set"]

TRACKING_HELP = ("MLflow tracking URI (default: $MLFLOW_TRACKING_URI or sqlite:///mlflow.db in "
                 "the working directory)")
RESULTS_HELP = ("root of the results folders (default: results). The full default run of an "
                "experiment writes ROOT/<experiment>/<dataset>/; any other run writes "
                "ROOT/<experiment>/<dataset>/runs/<date>-<kind>-<run id>/")


def examples(*lines: str) -> str:
    """A help epilog listing example command lines (shown as written, not re-wrapped)."""
    return "examples:\n" + "\n".join(f"  {line}" for line in lines)


class Parser(argparse.ArgumentParser):
    def __init__(self, *args, **kwargs):
        # No prefix matching: `--epoch 3` is a typo, not `--epochs 3`, and `run --seed 3`
        # must not quietly mean `--seeds 3` (search has both --seed and --seeds).
        kwargs.setdefault("allow_abbrev", False)
        kwargs.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)  # examples
        super().__init__(*args, **kwargs)

    def error(self, message):  # one line, not argparse's usage block
        raise UsageError(f"{message} (see `python -m bench {self.prog.split()[-1]} --help`)"
                         if " " in self.prog else message)


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def bounded_int(low: int, high: int, what: str = "an integer"):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"expected {what} in [{low}, {high}], got {value}")
        return value
    return parse


port = bounded_int(1, 65535, "a TCP port")


def positive_float(text: str) -> float:
    """A finite number > 0 (``nan``, ``inf``, ``0`` and negatives are refused)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"expected a finite positive number, got {text!r}")
    return value


def nonempty(text: str) -> str:
    if not text.strip() or "\x00" in text:
        raise argparse.ArgumentTypeError(f"expected a non-empty name, got {text!r}")
    return text


def seeds(text: str) -> list[int]:
    """``5`` means seeds 0..4; ``0,3,7`` means exactly those."""
    try:
        if "," in text:
            chosen = [int(s) for s in text.split(",") if s.strip()]
            if not chosen or min(chosen) < 0 or len(set(chosen)) != len(chosen):
                raise ValueError
        else:
            chosen = list(range(bounded_int(1, MAX_SEEDS)(text)))
    except (ValueError, argparse.ArgumentTypeError):
        raise argparse.ArgumentTypeError(
            f"expected a number of seeds (1 to {MAX_SEEDS}, e.g. 5) or distinct non-negative "
            f"seeds (e.g. 0,3,7), got {text!r}") from None
    if len(chosen) > MAX_SEEDS or max(chosen) >= 2**63:
        raise argparse.ArgumentTypeError(f"at most {MAX_SEEDS} seeds, each below 2**63, "
                                         f"got {text[:40]!r}")
    return chosen


def csv(kind):
    def parse(text: str):
        try:
            values = [kind(p) for p in text.split(",") if p.strip()]
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected comma-separated {kind.__name__}s, got {text!r}") from None
        if not values:
            raise argparse.ArgumentTypeError(f"expected at least one {kind.__name__}, got {text!r}")
        return values
    return parse


def assignment(text: str) -> tuple[str, object]:
    """``FIELD=VALUE`` for any RunConfig field, parsed like an experiment file's value."""
    from experiments.fields import parse_assignment
    try:
        return parse_assignment(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_set(p) -> None:
    p.add_argument("--set", type=assignment, action="append", metavar="FIELD=VALUE",
                   help="change one config field on every arm, e.g. --set keep_prob=0.9 or "
                        "--set hidden=128,64 (repeatable; none unsets an optional field; "
                        "`python -m bench list --fields` lists the fields)")


def add_tracking(p) -> None:
    p.add_argument("--tracking-uri", help=TRACKING_HELP)
    p.add_argument("--experiment-name", type=nonempty,
                   help="MLflow experiment name (default: the experiment's)")
    p.add_argument("--results-dir", default="results", help=RESULTS_HELP)


def add_experiment_options(p, owners: dict[str, list]) -> None:
    """One flag per declared experiment option (``bench.planning.option_owners``), its help
    naming the experiments that take it."""
    for name, declared in owners.items():
        option = declared[0][0]
        which = ", ".join(sorted({exp for _, exp in declared}))
        if option.kind is bool:
            p.add_argument(option.flag, dest=name, action="store_true",
                           help=f"{which}: {option.help}")
        else:
            kind = csv(option.kind) if option.many else option.kind
            p.add_argument(option.flag, dest=name, type=kind, help=f"{which}: {option.help}")
