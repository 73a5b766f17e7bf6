"""Confidence intervals over seeds and paired comparisons between arms."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

__all__ = ["Interval", "t_interval", "Paired", "paired_difference"]


@dataclass(frozen=True)
class Interval:
    mean: float
    low: float
    high: float
    n: int

    @property
    def half_width(self) -> float:
        return (self.high - self.low) / 2


def t_interval(values, confidence: float = 0.95) -> Interval:
    """Student-t interval for the mean of the finite ``values``: ``mean ± t s / sqrt(n)``.

    With one value the interval is undefined (NaN bounds); with none, everything is NaN.
    """
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    n = x.size
    if n == 0:
        return Interval(math.nan, math.nan, math.nan, 0)
    mean = float(x.mean())
    if n == 1:
        return Interval(mean, math.nan, math.nan, 1)
    half = float(stats.t.ppf(0.5 + confidence / 2, n - 1) * x.std(ddof=1) / math.sqrt(n))
    return Interval(mean, mean - half, mean + half, n)


@dataclass(frozen=True)
class Paired:
    diff: Interval      # of (a - b) over the seeds both arms share
    p_value: float      # two-sided paired t-test; NaN when it is undefined


def paired_difference(a: dict[int, float], b: dict[int, float], confidence: float = 0.95) -> Paired:
    """Compare arm ``a`` with arm ``b`` seed by seed (only seeds with finite values in both)."""
    seeds = sorted(s for s in set(a) & set(b) if math.isfinite(a[s]) and math.isfinite(b[s]))
    d = np.array([a[s] - b[s] for s in seeds], dtype=float)
    interval = t_interval(d, confidence)
    if d.size < 2 or np.all(d == d[0]):
        # A constant difference has zero variance: the t statistic is undefined.
        p = math.nan if d.size < 2 or d[0] != 0 else 1.0
    else:
        p = float(stats.ttest_rel([a[s] for s in seeds], [b[s] for s in seeds]).pvalue)
    return Paired(interval, p)
