"""Experiment files: an experiment declared in TOML, read with the standard library.

A file names the experiment, gives a ``[base]`` (any :class:`RunConfig` field; the rest keep
RunConfig's defaults) and a list of ``[[arm]]`` tables. Each arm is a delta of ``[base]``, or
with ``from = "other"`` of an earlier arm, and is compared with the arm it comes from unless
``compare_to`` names another. The first arm is the baseline unless ``baseline`` names one.
Arms may declare search spaces (``search.lr = { float = [1e-4, 1e-1], log = true }``) in
:mod:`experiments.search_space`'s vocabulary; a top-level ``[search]`` applies to every arm.

Built-in experiments ship as such files (``experiments/builtin/``), so both go through this
loader. Every error is an :class:`ExperimentFileError`: one line naming the file, the arm,
the field or line, and what is allowed.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass

from . import fields as F
from .config import RunConfig
from .experiment import Arm, Experiment
from .search_space import Choice, Float, Int, apply_values

__all__ = ["ExperimentFile", "ExperimentFileError", "load_file", "parse_text", "MAX_FILE_SEEDS"]

TOP_KEYS = ("name", "description", "dataset", "seeds", "baseline", "reference_note", "base",
            "search", "arm", "replay_of")
ARM_KEYS = ("name", "description", "from", "compare_to", "reference", "search")
DERIVED_KNOBS = ("final_lr_ratio", "width_factor")  # see search_space.apply_values
REFERENCE_KEYS = ("test_accuracy", "test_loss")
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
MAX_FILE_SEEDS = 10_000


class ExperimentFileError(ValueError):
    """A bad experiment file, in one line: ``FILE: WHERE: what is wrong; what is allowed``."""


@dataclass(frozen=True)
class ExperimentFile:
    experiment: Experiment
    seeds: tuple[int, ...] | None    # the file's own seeds, if it names them
    path: str
    replay_of: str | None = None     # set in a run's resolved-config artifact (its run key)


def load_file(path: str) -> ExperimentFile:
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
    except OSError as exc:
        raise ExperimentFileError(f"{path}: cannot read the experiment file "
                                  f"({exc.strerror or exc})") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ExperimentFileError(f"{path}: not UTF-8 text (TOML files are UTF-8)") from None
    return parse_text(text, path)


def parse_text(text: str, source: str) -> ExperimentFile:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ExperimentFileError(f"{source}: TOML syntax error: {exc}") from None
    return _Reader(source).experiment(data)


class _Reader:
    def __init__(self, source: str):
        self.source = source

    def fail(self, where: str, message: str) -> ExperimentFileError:
        return ExperimentFileError(f"{self.source}: {where}: {message}" if where
                                   else f"{self.source}: {message}")

    def keys(self, table: dict, allowed, where: str) -> None:
        for key in table:
            if key not in allowed:
                guess = F.nearest(key, allowed)
                hint = f" (did you mean {guess!r}?)" if guess else ""
                raise self.fail(where, f"unknown field {key!r}{hint}; valid: {', '.join(allowed)}")

    def string(self, table: dict, key: str, where: str, required: bool = False,
               pattern: re.Pattern | None = None) -> str | None:
        value = table.get(key)
        if value is None and not required:
            return None
        if not isinstance(value, str) or not value.strip():
            raise self.fail(where, f"{key} must be a non-empty string, got {value!r}")
        if pattern is not None and not pattern.fullmatch(value):
            raise self.fail(where, f"{key} {value!r} must be letters, digits, '.', '_' or '-' "
                                   "(it names folders and runs)")
        return value

    def experiment(self, data: dict) -> ExperimentFile:
        self.keys(data, TOP_KEYS, "")
        name = self.string(data, "name", "", required=True, pattern=NAME)
        base = self.config_fields(self.table(data, "base", ""), "[base]", ())
        if "dataset" in data:
            if "dataset" in base:
                raise self.fail("", "dataset is given at the top and in [base]; give it once")
            base["dataset"] = F.from_toml("dataset", self.string(data, "dataset", ""))
        try:
            base_config = RunConfig(**base)
        except (TypeError, ValueError) as exc:
            raise self.fail("[base]", str(exc)) from None
        shared_space = self.space_table(data, "[search]")
        arms, spaces = self.arms(data.get("arm"), base_config, shared_space)
        names = [a.name for a in arms]
        baseline = self.string(data, "baseline", "", pattern=NAME) or names[0]
        if baseline not in names:
            raise self.fail("", f"baseline {baseline!r} is not an arm; arms: {', '.join(names)}")
        experiment = Experiment(
            name=name, description=self.string(data, "description", "") or name,
            arms=tuple(arms), baseline=baseline,
            reference_note=self.string(data, "reference_note", "") or "", search_spaces=spaces)
        return ExperimentFile(experiment, self.seeds(data.get("seeds")), self.source,
                              self.string(data, "replay_of", ""))

    def table(self, data: dict, key: str, where: str) -> dict:
        value = data.get(key, {})
        if not isinstance(value, dict):
            raise self.fail(where, f"{key} must be a table ([{key}]), got {value!r}")
        return value

    def config_fields(self, table: dict, where: str, extra: tuple) -> dict:
        self.keys(table, (*extra, *F.FIELDS), where)
        try:
            return {k: F.from_toml(k, v) for k, v in table.items() if k not in extra}
        except ValueError as exc:
            raise self.fail(where, str(exc)) from None

    def seeds(self, value) -> tuple[int, ...] | None:
        if value is None:
            return None
        if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_FILE_SEEDS:
            return tuple(range(value))
        if (isinstance(value, list) and value and len(value) <= MAX_FILE_SEEDS
                and all(isinstance(s, int) and not isinstance(s, bool) and 0 <= s < 2**63
                        for s in value) and len(set(value)) == len(value)):
            return tuple(value)
        raise self.fail("", f"seeds must be a number of seeds (1 to {MAX_FILE_SEEDS}) or a list "
                            f"of distinct non-negative integers, got {value!r}")

    def arms(self, tables, base: RunConfig, shared_space: dict):
        if not isinstance(tables, list) or not tables or not all(isinstance(t, dict) for t in tables):
            raise self.fail("", "needs at least one [[arm]] table (each with a name)")
        arms: list[Arm] = []
        spaces: dict = {}
        for i, table in enumerate(tables, 1):
            where = f"arm {table['name']!r}" if isinstance(table.get("name"), str) else f"arm #{i}"
            name = self.string(table, "name", where, required=True, pattern=NAME)
            known = {a.name: a for a in arms}
            if name in known:
                raise self.fail(where, f"duplicate arm name {name!r}; arm names must be unique")
            parent = self.arm_ref(table, "from", where, known)
            compare_to = self.arm_ref(table, "compare_to", where, known, later=tables)
            delta = self.config_fields(table, where, ARM_KEYS)
            start = known[parent].config if parent else base
            try:
                config = start.replace(**delta)
            except (TypeError, ValueError) as exc:
                raise self.fail(where, str(exc)) from None
            arms.append(Arm(name, config, self.string(table, "description", where) or "",
                            compare_to or parent, self.reference(table, where)))
            space = {**shared_space, **self.space_table(table, where)}
            if space:
                self.check_space(space, config, where)
                spaces[name] = space
        return arms, spaces

    def arm_ref(self, table: dict, key: str, where: str, known: dict, later=()) -> str | None:
        value = self.string(table, key, where)
        if value is None or value in known:
            return value
        names = [t.get("name") for t in later if isinstance(t.get("name"), str)]
        if value in names and value != table.get("name"):  # compare_to may name a later arm
            return value
        allowed = names or list(known)
        what = "an earlier arm" if key == "from" else "an arm"
        raise self.fail(where, f"{key} {value!r} is not {what}; valid: "
                               f"{', '.join(allowed if key != 'from' else known) or '(none yet)'}")

    def reference(self, table: dict, where: str) -> dict:
        ref = self.table(table, "reference", where)
        self.keys(ref, REFERENCE_KEYS, f"{where}: reference")
        for key, value in ref.items():
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise self.fail(where, f"reference.{key} must be a number, got {value!r}")
        return {k: float(v) for k, v in ref.items()}

    def space_table(self, table: dict, where: str) -> dict:
        raw = self.table(table, "search", where)
        self.keys(raw, (*F.FIELDS, *DERIVED_KNOBS), f"{where}: search")
        return {k: self.dimension(k, v, where) for k, v in raw.items()}

    def dimension(self, key: str, spec, where: str):
        form = ("{ float = [low, high], log = true }, { int = [low, high] } or "
                "{ choice = [a, b, ...] }")
        kinds = [k for k in ("float", "int", "choice") if isinstance(spec, dict) and k in spec]
        if (len(kinds) != 1 or set(spec) - {kinds[0], "log"}
                or ("log" in spec and (kinds[0] == "choice" or not isinstance(spec["log"], bool)))):
            raise self.fail(where, f"search.{key} must be {form}, got {spec!r}")
        kind, values, log = kinds[0], spec[kinds[0]], spec.get("log", False)
        if kind == "choice":
            if not isinstance(values, list) or not values:
                raise self.fail(where, f"search.{key}.choice must be a non-empty list, got {values!r}")
            return Choice(tuple(values))
        number = int if kind == "int" else (int, float)
        if (not isinstance(values, list) or len(values) != 2
                or not all(isinstance(v, number) and not isinstance(v, bool) for v in values)
                or not values[0] < values[1] or (log and values[0] <= 0)):
            raise self.fail(where, f"search.{key}.{kind} must be [low, high] with low < high"
                                   f"{' and low > 0 (log scale)' if log else ''}, got {values!r}")
        return Int(values[0], values[1], log) if kind == "int" else Float(
            float(values[0]), float(values[1]), log)

    def check_space(self, space: dict, config: RunConfig, where: str) -> None:
        """Every end of every range (every choice) must give a valid config of this arm."""
        for key, dim in space.items():
            points = dim.choices if isinstance(dim, Choice) else (dim.low, dim.high)
            for value in points:
                try:
                    if key in F.KINDS:
                        F.from_toml(key, list(value) if isinstance(value, tuple) else value)
                    apply_values(config, {key: value})
                except (TypeError, ValueError) as exc:
                    raise self.fail(where, f"search.{key} = {value!r} is not a valid value for "
                                           f"this arm: {exc}") from None
