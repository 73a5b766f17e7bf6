"""Tuning curves (Dodge et al. 2019, "Show your work"): the expected best validation score
after k trials, k = 1 .. budget, per arm.

Estimator: the expected maximum of k draws *with replacement* from the empirical
distribution of the arm's trial scores (all trials of all its studies, pooled). With the
scores sorted, v_(1) <= ... <= v_(n),

    P(max = v_(i)) = (i/n)^k - ((i-1)/n)^k,      E[max_k] = sum_i v_(i) P(max = v_(i)),

and the band is ± one standard deviation of that maximum (sqrt(E[max^2] - E[max]^2)),
clipped to the observed range. This is the estimator the paper uses. It is biased: drawing
with replacement, k draws can repeat the best trial, so near k = n it runs above what k
fresh trials would give (optimistic), and it can never exceed the best trial seen. The
without-replacement variant (``replace=False``: P(max = v_(i)) = C(i-1, k-1) / C(n, k)) is
unbiased for the expected best of k of these n trials; the report uses the paper's, with
n = studies x budget trials pooled so that k <= budget stays well below n.

Two further caveats, stated in the report: the trials of a TPE study are not independent
draws (later ones depend on earlier ones), and pooling studies treats them as one sample.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import comb

__all__ = ["expected_max", "tuning_curve", "ranking_stable_since", "curve_table",
           "plot_tuning_curves"]


def expected_max(values, k: int, replace: bool = True) -> tuple[float, float]:
    """``(E[max], sd[max])`` of ``k`` draws from ``values`` (see the module docstring)."""
    v = np.sort(np.asarray(values, dtype=float))
    n = v.size
    if n == 0 or k < 1:
        return math.nan, math.nan
    i = np.arange(1, n + 1)
    if replace:
        p = (i / n) ** k - ((i - 1) / n) ** k
    else:
        if k > n:
            raise ValueError(f"k = {k} draws without replacement from {n} values")
        p = comb(i - 1, k - 1) / comb(n, k)
    mean = float(np.sum(p * v))
    var = float(np.sum(p * v * v)) - mean * mean
    return mean, math.sqrt(max(var, 0.0))


def tuning_curve(values, budget: int, replace: bool = True) -> dict:
    """``{"k", "mean", "low", "high"}`` arrays for k = 1 .. ``budget``."""
    values = np.asarray(values, dtype=float)
    ks = np.arange(1, budget + 1)
    stats = [expected_max(values, int(k), replace) for k in ks]
    mean = np.array([m for m, _ in stats])
    sd = np.array([s for _, s in stats])
    lo, hi = (values.min(), values.max()) if values.size else (math.nan, math.nan)
    return {"k": ks, "mean": mean, "low": np.clip(mean - sd, lo, hi),
            "high": np.clip(mean + sd, lo, hi)}


def _ranking(curves: dict, k: int) -> tuple[str, ...]:
    arms = [a for a in curves if not math.isnan(curves[a]["mean"][k - 1])]
    return tuple(sorted(arms, key=lambda a: -curves[a]["mean"][k - 1]))


def ranking_stable_since(curves: dict, budget: int) -> int:
    """The smallest k from which the arms' order by expected best score stays what it is at
    ``budget`` (``budget`` itself: the order still changed on the last trial)."""
    final = _ranking(curves, budget)
    k = budget
    while k > 1 and _ranking(curves, k - 1) == final:
        k -= 1
    return k


def curve_table(curves: dict, budget: int) -> list[str]:
    """Markdown: expected best validation accuracy (%) ± sd at a few budgets, per arm."""
    ks = sorted({k for k in (1, 2, 5, 10, 20, 50, 100) if k < budget} | {budget})
    lines = ["| arm | " + " | ".join(f"k = {k}" for k in ks) + " |",
             "|---|" + "---|" * len(ks)]
    for arm, c in curves.items():
        cells = []
        for k in ks:
            m, lo, hi = c["mean"][k - 1], c["low"][k - 1], c["high"][k - 1]
            cells.append("–" if math.isnan(m) else f"{m * 100:.2f} ({lo * 100:.1f}–{hi * 100:.1f})")
        lines.append(f"| {arm} | " + " | ".join(cells) + " |")
    return lines


def plot_tuning_curves(curves: dict, path: str, title: str) -> str:
    from ..figures import pyplot
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(8, 4.5), constrained_layout=True)
    cmap = plt.get_cmap("tab20")
    for index, (arm, c) in enumerate(curves.items()):
        if np.all(np.isnan(c["mean"])):
            continue
        color = cmap(index % 20)
        ax.plot(c["k"], c["mean"] * 100, color=color, label=arm, lw=1.6)
        ax.fill_between(c["k"], c["low"] * 100, c["high"] * 100, color=color, alpha=0.12, lw=0)
    ax.set(xlabel="trials (k)", ylabel="expected best validation accuracy (%)", title=title)
    top = [np.nanmax(c["mean"]) for c in curves.values() if not np.all(np.isnan(c["mean"]))]
    if top:  # every arm's full-budget value stays on the axis; early trials near chance may not
        low = min(np.nanmedian(top) * 100 - 25, min(top) * 100 - 3)
        ax.set_ylim(max(0.0, low), min(100.0, max(top) * 100 + 2))
    from matplotlib.ticker import MaxNLocator
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # k counts trials
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, title="arm", loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)
    from ..figures import save_figure
    return save_figure(fig, path, dpi=100)
