"""Experiment files at the command line: listing them beside the built-ins, and the
template ``bench init`` writes."""

from __future__ import annotations

import glob
import os
import tomllib

from experiments import EXPERIMENTS, ExperimentFileError, builtin_text, get_experiment, load_file
from experiments.fields import FIELDS, KINDS

from .files import write_atomic
from .planning import UsageError

__all__ = ["list_lines", "field_lines", "write_template", "template_text", "TEMPLATE_NAME"]

TEMPLATE_NAME = "my-ladder"
_HEADER = """\
# An experiment file: `python -m bench run THIS_FILE` runs it, `python -m bench search
# THIS_FILE` tunes its arms, `python -m bench list` shows it. It starts as notebook 000's
# ladder (the built-in `ablation`, renamed); change the arms, the base or the name.
# Values are TOML: strings in quotes, lists in brackets, true/false.
"""


def _experiment_lines(exp, label: str) -> list[str]:
    lines = [f"{label}: {exp.description}"]
    for arm in exp.arms:
        vs = f"  (vs {arm.compare_to})" if arm.compare_to else ""
        lines.append(f"  {arm.name:<18} {arm.description}{vs}")
    return lines


def _is_experiment_file(path: str) -> bool:
    """A TOML file in the folder that declares arms (pyproject.toml and the like do not)."""
    try:
        with open(path, "rb") as fh:
            return "arm" in tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
        return False


def list_lines(paths: list[str], folder: str = ".") -> list[str]:
    """Every built-in experiment, then the experiment files in ``folder`` and ``paths``: a
    file named explicitly must load (else its one-line error), one found in the folder is
    listed with its error instead."""
    lines: list[str] = []
    for name in EXPERIMENTS:
        lines += _experiment_lines(get_experiment(name), name)
    found = sorted(p for p in glob.glob(os.path.join(folder, "*.toml")) if _is_experiment_file(p))
    for path in [*paths, *(p for p in found if p not in paths)]:
        try:
            definition = load_file(path)
        except ExperimentFileError as exc:
            if path in paths:
                raise
            lines.append(f"{path}: not loadable: {exc}")
            continue
        lines += _experiment_lines(definition.experiment, f"{path} ({definition.experiment.name})")
    return lines


def field_lines() -> list[str]:
    """The config fields a file's [base] and arms, and --set, accept."""
    kinds = {"ints": "list of integers"}
    return [f"{name:<18} {kinds.get(kind, kind)}{' or none' if optional else ''}"
            for name, (kind, optional) in KINDS.items() if name in FIELDS]


def template_text() -> str:
    text = builtin_text("ablation")
    text = text.replace('name = "ablation"', f'name = "{TEMPLATE_NAME}"', 1)
    return _HEADER + text


def write_template(path: str) -> str:
    """Write the template to ``path`` (never over an existing file)."""
    if os.path.isdir(path):
        path = os.path.join(path, f"{TEMPLATE_NAME}.toml")
    if os.path.exists(path):
        raise UsageError(f"{path} already exists; pass another PATH (init never overwrites)")
    parent = os.path.dirname(path) or "."
    if not os.path.isdir(parent):
        raise UsageError(f"cannot write {path}: no folder {parent!r}")
    write_atomic(path, template_text())
    return path
