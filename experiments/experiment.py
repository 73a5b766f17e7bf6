"""An experiment: named arms, each a config delta, and how they compare."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field

from .config import RunConfig

__all__ = ["Arm", "Experiment"]


@dataclass(frozen=True)
class Arm:
    name: str
    config: RunConfig
    description: str
    compare_to: str | None = None   # the arm this one changes (the previous rung)
    reference: dict = field(default_factory=dict)  # e.g. the notebook's reported numbers


@dataclass(frozen=True)
class Experiment:
    name: str
    description: str
    arms: tuple[Arm, ...]
    baseline: str                    # the arm every other arm is also compared with
    reference_note: str = ""         # how the reference numbers' protocol differs from ours
    search_spaces: dict = field(default_factory=dict)  # arm name -> search space (bench search)

    def __post_init__(self):
        names = [a.name for a in self.arms]
        if len(set(names)) != len(names):
            raise ValueError(f"experiment {self.name!r} has duplicate arm names: {names}")
        for arm in self.arms:
            if arm.compare_to is not None and arm.compare_to not in names:
                raise ValueError(f"arm {arm.name!r} compares to unknown arm {arm.compare_to!r}")
        if self.baseline not in names:
            raise ValueError(f"baseline {self.baseline!r} is not an arm of {self.name!r}")

    @property
    def arm_names(self) -> list[str]:
        return [a.name for a in self.arms]

    def arm(self, name: str) -> Arm:
        for a in self.arms:
            if a.name == name:
                return a
        raise ValueError(f"unknown arm {name!r} for experiment {self.name!r}; "
                         f"valid arms: {', '.join(self.arm_names)}")

    def select(self, names: list[str] | None) -> "Experiment":
        """The same experiment restricted to ``names`` (in the experiment's order)."""
        if not names:
            return self
        for n in names:
            self.arm(n)  # validates
        return self.restrict(a for a in self.arms if a.name in names)

    def restrict(self, arms: Iterable[Arm]) -> "Experiment":
        """The experiment with only ``arms`` (its own, or replacements under the same names).

        A comparison with an arm left out is dropped, and the baseline falls back to the
        first arm kept when it is left out itself."""
        arms = tuple(arms)
        kept = {a.name for a in arms}
        arms = tuple(a if a.compare_to in kept or a.compare_to is None
                     else dataclasses.replace(a, compare_to=None) for a in arms)
        baseline = self.baseline if self.baseline in kept else arms[0].name
        return dataclasses.replace(
            self, arms=arms, baseline=baseline,
            search_spaces={k: v for k, v in self.search_spaces.items() if k in kept})

    def map_configs(self, **changes) -> "Experiment":
        """Apply the same field changes (e.g. dataset, epochs) to every arm."""
        if not changes:
            return self
        arms = tuple(Arm(a.name, a.config.replace(**changes), a.description, a.compare_to,
                         a.reference) for a in self.arms)
        return Experiment(self.name, self.description, arms, self.baseline, self.reference_note,
                          self.search_spaces)

    def structure(self) -> dict:
        """The experiment as plain data (what a parent run stores, and what its tables are
        rebuilt from); the hashes that identify runs are taken from it too."""
        return {
            "experiment": self.name, "description": self.description,
            "baseline": self.baseline, "reference_note": self.reference_note,
            "arms": [{"name": a.name, "description": a.description, "compare_to": a.compare_to,
                      "reference": a.reference, "config": asdict(a.config)} for a in self.arms],
        }

    def arm_configs(self) -> list[list]:
        """``[[arm name, config as a dict], ...]``: what the runs are, without the prose."""
        return [[a["name"], a["config"]] for a in self.structure()["arms"]]
