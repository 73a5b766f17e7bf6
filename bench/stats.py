"""Intervals over seeds and comparisons between arms, with the power to read a null result.

Every comparison is of arm ``a`` against arm ``b`` on one metric (test accuracy). When both
arms ran the same seeds from common random numbers the runs are paired, and the test is the
paired t-test on the seed-wise differences ``d_i = a_i - b_i``:

    t = mean(d) / (sd(d) / sqrt(n)),  effect size d_z = mean(d) / sd(d).

Otherwise it is Welch's t-test on the two samples, with Hedges' g (the pooled-sd effect size
times ``1 - 3 / (4 (n_a + n_b) - 9)``) as the effect size. A family of comparisons is
corrected with Holm's step-down method, and a comparison without a detectable difference
states the smallest difference its seeds would detect with 80% power at the strictest Holm
level ``alpha / m``, so "no difference" always says how large a difference could hide.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
from scipy import stats

__all__ = ["Interval", "t_interval", "Comparison", "compare", "holm", "correct_family",
           "binomial_half_width", "seeds_for_half_width", "POWER"]

POWER = 0.8


@dataclass(frozen=True)
class Interval:
    mean: float
    low: float
    high: float
    n: int               # finite values used
    missing: int = 0     # NaN values (a run without the metric): counted, never dropped silently

    @property
    def half_width(self) -> float:
        return (self.high - self.low) / 2


def t_interval(values, confidence: float = 0.95) -> Interval:
    """Student-t interval for the mean: ``mean ± t_{n-1} s / sqrt(n)``.

    NaN values are left out and counted in ``missing``. An infinite value (a loss that
    diverged with no checkpoint to fall back on) makes the mean infinite and the interval
    undefined. With one value the bounds are NaN; with none, everything is.
    """
    x = np.asarray(values, dtype=float)
    missing = int(np.isnan(x).sum())
    x = x[~np.isnan(x)]
    n = x.size
    if n == 0:
        return Interval(math.nan, math.nan, math.nan, 0, missing)
    if not np.all(np.isfinite(x)):
        return Interval(float(x.mean()), math.nan, math.nan, n, missing)
    mean = float(x.mean())
    if n == 1:
        return Interval(mean, math.nan, math.nan, 1, missing)
    half = float(stats.t.ppf(0.5 + confidence / 2, n - 1) * x.std(ddof=1) / math.sqrt(n))
    return Interval(mean, mean - half, mean + half, n, missing)


def binomial_half_width(accuracy: float, n_test: int, confidence: float = 0.95) -> float:
    """Half-width of the normal-approximation interval of one accuracy measured on
    ``n_test`` examples, ``z sqrt(p (1 - p) / n)``: the test-set sampling error that an
    interval over seeds (all scored on the same test set) does not contain."""
    if n_test <= 0 or not 0 <= accuracy <= 1:
        return math.nan
    return float(stats.norm.ppf(0.5 + confidence / 2) * math.sqrt(accuracy * (1 - accuracy) / n_test))


def seeds_for_half_width(values, target: float, confidence: float = 0.95) -> int:
    """Seeds needed for a t-interval of half-width ``target``, from the spread of ``values``:
    the smallest n with ``t_{n-1} s / sqrt(n) <= target`` (at least the seeds already run)."""
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    if x.size < 2:
        return max(x.size + 1, 2)
    s = float(x.std(ddof=1))
    n = x.size
    while stats.t.ppf(0.5 + confidence / 2, n - 1) * s / math.sqrt(n) > target:
        n += 1
    return n


@dataclass(frozen=True)
class Comparison:
    diff: Interval          # of a - b: seed-wise differences (paired) or difference of means
    p_value: float          # two-sided; NaN when there is no test
    test: str               # "paired t", "Welch t", or why there is none
    effect: float           # d_z (paired) or Hedges' g (Welch); NaN without a test
    correlation: float      # seed-wise Pearson r of a and b (paired, n >= 3); what pairing buys
    sd: float               # sd of the differences (paired) or pooled sd (Welch)
    dropped: int = 0        # seeds left out for a non-finite value in either arm
    p_adjusted: float = math.nan
    alpha: float = 0.05     # the strictest level the family's correction applies (alpha / m)

    @property
    def n(self) -> int:
        return self.diff.n

    @property
    def detectable(self) -> float:
        """The smallest |a - b| these seeds detect with 80% power at level ``alpha``."""
        if self.n < 2 or not math.isfinite(self.sd):
            return math.nan
        if self.sd == 0:
            return 0.0
        return _min_effect(self.test, self.n, self.alpha) * self.sd

    @property
    def seeds_needed(self) -> int | None:
        """Seeds (per arm) to detect the observed difference with 80% power at ``alpha``."""
        if not math.isfinite(self.effect) or self.effect == 0:
            return None
        return _nobs(self.test, abs(self.effect), self.alpha)

    @property
    def verdict(self) -> str:
        if self.n == 0:
            return "no shared seeds"
        if self.n == 1:
            return "1 seed: no test"
        if math.isnan(self.p_adjusted):
            return "no test"
        if self.p_adjusted < 0.05:
            return "better" if self.diff.mean > 0 else "worse"
        return "no detectable difference"


def compare(a: dict[int, float], b: dict[int, float], paired: bool,
            confidence: float = 0.95) -> Comparison:
    """Arm ``a`` against arm ``b``, given each arm's metric by seed."""
    nan_seeds = {s for s, v in (*a.items(), *b.items()) if not math.isfinite(v)}
    a = {s: v for s, v in a.items() if s not in nan_seeds}
    b = {s: v for s, v in b.items() if s not in nan_seeds}
    if paired:
        shared = sorted(set(a) & set(b))
        return _paired(np.array([a[s] for s in shared]), np.array([b[s] for s in shared]),
                       confidence, len(nan_seeds))
    return _welch(np.array(list(a.values())), np.array(list(b.values())), confidence,
                  len(nan_seeds))


def _paired(x, y, confidence, dropped) -> Comparison:
    d = x - y
    interval = t_interval(d, confidence)
    n = d.size
    r = float(np.corrcoef(x, y)[0, 1]) if n >= 3 and x.std() > 0 and y.std() > 0 else math.nan
    if n < 2:
        return Comparison(interval, math.nan, "paired t", math.nan, r, math.nan, dropped)
    sd = float(d.std(ddof=1))
    if sd == 0:
        # A constant difference: t is infinite unless the difference is zero. The answer is
        # definite either way (p = 0 or 1), not undefined.
        mean = float(d.mean())
        p = 1.0 if mean == 0 else 0.0
        return Comparison(interval, p, "paired t", 0.0 if mean == 0 else math.copysign(math.inf, mean),
                          r, 0.0, dropped)
    p = float(stats.ttest_rel(x, y).pvalue)
    return Comparison(interval, p, "paired t", float(d.mean()) / sd, r, sd, dropped)


def _welch(x, y, confidence, dropped) -> Comparison:
    nx, ny = x.size, y.size
    if nx < 2 or ny < 2:
        mean = float(x.mean() - y.mean()) if nx and ny else math.nan
        return Comparison(Interval(mean, math.nan, math.nan, min(nx, ny)), math.nan, "Welch t",
                          math.nan, math.nan, math.nan, dropped)
    vx, vy = x.var(ddof=1) / nx, y.var(ddof=1) / ny
    mean = float(x.mean() - y.mean())
    pooled = math.sqrt(((nx - 1) * x.var(ddof=1) + (ny - 1) * y.var(ddof=1)) / (nx + ny - 2))
    n = min(nx, ny)
    if vx + vy == 0:
        p = 1.0 if mean == 0 else 0.0
        interval = Interval(mean, mean, mean, n)
        effect = 0.0 if mean == 0 else math.copysign(math.inf, mean)
        return Comparison(interval, p, "Welch t", effect, math.nan, 0.0, dropped)
    df = (vx + vy) ** 2 / (vx ** 2 / (nx - 1) + vy ** 2 / (ny - 1))
    half = float(stats.t.ppf(0.5 + confidence / 2, df) * math.sqrt(vx + vy))
    p = float(stats.ttest_ind(x, y, equal_var=False).pvalue)
    g = mean / pooled * (1 - 3 / (4 * (nx + ny) - 9)) if pooled > 0 else math.nan
    return Comparison(Interval(mean, mean - half, mean + half, n), p, "Welch t", g, math.nan,
                      pooled, dropped)


def _power(test: str, effect: float, n: int, alpha: float) -> float:
    """Power of the two-sided t-test: ``P(|T| > t_crit)`` with ``T`` noncentral t, for the
    paired test ``df = n - 1, nc = e sqrt(n)``, for two arms of ``n`` runs ``df = 2n - 2,
    nc = e sqrt(n / 2)``. The same formula as statsmodels' ``TTestPower``/``TTestIndPower``
    (the tests check it against them), which return NaN at ``df = 1``."""
    df, nc = (n - 1, effect * math.sqrt(n)) if test == "paired t" else (2 * n - 2, effect * math.sqrt(n / 2))
    crit = stats.t.isf(alpha / 2, df)
    with np.errstate(all="ignore"):
        p = float(stats.nct.sf(crit, df, nc) + stats.nct.cdf(-crit, df, nc))
    if math.isnan(p):  # far out in the tail the noncentral t loses precision
        return 1.0 if abs(nc) > crit else 0.0
    return min(max(p, 0.0), 1.0)


def _min_effect(test: str, n: int, alpha: float) -> float:
    """The effect size detected with 80% power: the root of power(e) = 0.8 (power rises with
    e, so bracketing is safe where statsmodels' own solver sometimes fails to converge)."""
    from scipy.optimize import brentq
    return float(brentq(lambda e: _power(test, e, n, alpha) - POWER, 1e-9, 1e6, xtol=1e-12))


def _nobs(test: str, effect: float, alpha: float, cap: int = 100_000) -> int:
    """The smallest n >= 2 whose power reaches 80% (by doubling, then bisection)."""
    if math.isinf(effect):
        return 2
    if _power(test, effect, 2, alpha) >= POWER:
        return 2
    low, high = 2, 4
    while _power(test, effect, high, alpha) < POWER:
        low, high = high, high * 2
        if high > cap:
            return cap
    while high - low > 1:
        mid = (low + high) // 2
        low, high = (mid, high) if _power(test, effect, mid, alpha) < POWER else (low, mid)
    return high


def holm(p_values, alpha: float = 0.05) -> list[float]:
    """Holm-adjusted p-values (statsmodels' ``multipletests``); NaN entries stay NaN and do
    not count in the family's size."""
    from statsmodels.stats.multitest import multipletests
    p = np.asarray(p_values, dtype=float)
    out = np.full(p.shape, math.nan)
    ok = ~np.isnan(p)
    if ok.any():
        out[ok] = multipletests(p[ok], alpha=alpha, method="holm")[1]
    return out.tolist()


def correct_family(comparisons: list[Comparison], alpha: float = 0.05) -> list[Comparison]:
    """The comparisons with Holm-adjusted p-values and the family's strictest level."""
    adjusted = holm([c.p_value for c in comparisons], alpha)
    m = sum(not math.isnan(c.p_value) for c in comparisons)
    level = alpha / max(m, 1)
    return [replace(c, p_adjusted=pa, alpha=level) for c, pa in zip(comparisons, adjusted)]
