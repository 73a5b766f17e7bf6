"""Adaptive seeds: run an arm's seeds in rounds until its interval is as narrow as asked.

Round 1 is the invocation's seeds. After each round, an arm whose 95% t-interval of test
accuracy is wider than ``target`` (half-width, as a fraction) gets the seeds that interval
suggests, ``n = min{n : t_{n-1} s / sqrt(n) <= target}`` from its spread ``s`` so far, up to
``max_seeds``. New seeds continue after the largest one so far.

The rounds are replayed from what has finished, never remembered: round k is a function of
the results of rounds 1..k-1 only, so an interrupted invocation resumes into exactly the seeds
an uninterrupted one would have run, and any process can tell what is still to do.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .stats import seeds_for_half_width, t_interval

__all__ = ["Precision", "Plan"]


@dataclass(frozen=True)
class Plan:
    pending: list[int]      # seeds to run now (empty: the arm is done)
    seeds: list[int]        # every seed the rounds so far asked for
    reason: str             # why it is done: "target met", "max seeds reached", or ""


@dataclass(frozen=True)
class Precision:
    target: float           # 95% half-width of test accuracy, as a fraction (0.005 = 0.5 pp)
    max_seeds: int

    def __post_init__(self):
        if not (math.isfinite(self.target) and self.target > 0):
            raise ValueError(f"precision must be a positive number of points, got {self.target * 100:g}")
        if self.max_seeds < 2:
            raise ValueError(f"max seeds must be at least 2, got {self.max_seeds}")

    def plan(self, initial: list[int], results: dict[int, float],
             failed: frozenset[int] = frozenset()) -> Plan:
        """Replay the rounds over ``results`` (finished seed -> test accuracy); ``failed``
        seeds are not asked for again."""
        seeds = sorted(initial)[:self.max_seeds]
        while True:
            pending = [s for s in seeds if s not in results and s not in failed]
            if pending:
                return Plan(pending, seeds, "")
            values = [results[s] for s in seeds if s in results]
            if len(values) >= 2 and t_interval(values).half_width <= self.target:
                return Plan([], seeds, "target met")
            if len(seeds) >= self.max_seeds:
                return Plan([], seeds, "max seeds reached")
            want = min(self.max_seeds, max(len(seeds) + 1, seeds_for_half_width(values, self.target)))
            start = max(seeds) + 1
            seeds = seeds + list(range(start, start + want - len(seeds)))
