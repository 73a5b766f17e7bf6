"""Learning curves of every arm as small multiples: one panel per arm.

Each panel shows the arm's validation accuracy (solid, left axis: shared by every panel, so
arms compare at a glance) and validation loss (dashed, right axis: shared by the panels with
the same loss, since MSE and cross-entropy are on different scales), the mean over seeds with
a min-max band, every epoch that was validated, and the median best epoch (the weights that
were tested) as a dotted line. The arm it is compared with is drawn in grey behind it.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence

from .figures import finite, integer_epochs, pyplot, save_figure

__all__ = ["arm_learning_curves", "LOSS_NAMES"]

LOSS_NAMES = {"softmax_ce": "cross-entropy", "mse": "MSE"}
_ACC, _LOSS, _GREY = "#1f77b4", "#d62728", "#b0b0b0"


def _mean_band(series: Sequence[Sequence[tuple[int, float]]]):
    """Per epoch: (epoch, mean, min, max, n) over the seeds with a finite value there."""
    by_epoch: dict[int, list[float]] = {}
    for s in series:
        for step, value in s:
            if finite(value):
                by_epoch.setdefault(int(step), []).append(float(value))
    return [(e, sum(v) / len(v), min(v), max(v), len(v)) for e, v in sorted(by_epoch.items())]


def _draw(ax, band, colour, scale=1.0, **style):
    if not band:
        return
    ep = [b[0] for b in band]
    ax.plot(ep, [b[1] * scale for b in band], color=colour, linewidth=1.4,
            marker="o" if len(band) <= 12 else None, markersize=3, **style)
    if any(b[4] > 1 for b in band):
        ax.fill_between(ep, [b[2] * scale for b in band], [b[3] * scale for b in band],
                        color=colour, alpha=0.15, linewidth=0)


def _loss_limits(bands, losses) -> dict[str, tuple[float, float]]:
    """One loss range per loss kind (log scale where it spans more than 20x)."""
    values: dict[str, list[float]] = {}
    for arm, b in bands.items():
        for _, _, lo, hi, _ in b["val_loss"]:
            values.setdefault(losses.get(arm, ""), []).extend([lo, hi])
    out = {}
    for kind, v in values.items():
        v = [x for x in v if x > 0 and math.isfinite(x)]
        if v:
            out[kind] = (min(v), max(v))
    return out


def _accuracy_range(bands) -> tuple[tuple[float, float], set[str]]:
    """One accuracy range (%) for the panels, set by the arms near the median final accuracy:
    an arm more than 25 points below the median gets its own scale instead of flattening
    every other panel."""
    finals = {arm: b["val_accuracy"][-1][1] * 100 for arm, b in bands.items() if b["val_accuracy"]}
    if not finals:
        return (0.0, 100.0), set()
    median = statistics.median(finals.values())
    outliers = {a for a, f in finals.items() if f < median - 25}
    lows = [row[2] * 100 for a, b in bands.items() if a not in outliers
            for row in b["val_accuracy"]]
    low = max(0.0, min(lows, default=0.0) - 2)
    return (low, 100.0 if low < 95 else 100.5), outliers


def arm_learning_curves(curves: Mapping[str, Mapping[str, Sequence[Sequence[tuple[int, float]]]]],
                        path: str, title: str, losses: Mapping[str, str] | None = None,
                        best_epochs: Mapping[str, Sequence[float]] | None = None,
                        compare: Mapping[str, str | None] | None = None) -> str:
    """``curves[arm][metric]``: one ``[(epoch, value), ...]`` series per seed for ``val_loss``
    and ``val_accuracy`` (a fraction); ``losses[arm]``: the arm's loss name;
    ``best_epochs[arm]``: each seed's tested epoch; ``compare[arm]``: the arm drawn behind."""
    plt = pyplot()
    arms, losses = list(curves), dict(losses or {})
    best_epochs, compare = dict(best_epochs or {}), dict(compare or {})
    ncols = min(4, len(arms)) or 1
    nrows = math.ceil(len(arms) / ncols) or 1
    width, height = 3.5 * ncols + 0.8, 2.55 * nrows + 1.0
    fig, axes = plt.subplots(nrows, ncols, figsize=(width, height), sharex=True, squeeze=False)
    # Fixed margins in inches, not constrained layout: it measured ~40% of this figure's CPU
    # (two y axes per panel), and the panels' labels have fixed sizes.
    fig.subplots_adjust(left=0.8 / width, right=1 - 0.5 / width, bottom=0.45 / height,
                        top=1 - 0.75 / height, wspace=0.62, hspace=0.42)
    # Each arm's mean and band, computed once for the limits and the panels.
    bands = {arm: {m: _mean_band(c.get(m, ())) for m in ("val_accuracy", "val_loss")}
             for arm, c in curves.items()}
    limits = _loss_limits(bands, losses)
    common, outliers = _accuracy_range(bands)
    for ax, arm in zip(axes.flat, arms):
        other = compare.get(arm)
        if other in curves:
            _draw(ax, bands[other]["val_accuracy"], _GREY, 100.0)
        _draw(ax, bands[arm]["val_accuracy"], _ACC, 100.0)
        twin = ax.twinx()
        kind = losses.get(arm, "")
        _draw(twin, bands[arm]["val_loss"], _LOSS, linestyle="--")
        if kind in limits:
            low, high = limits[kind]
            if high / low > 20:
                from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter
                twin.set_yscale("log")
                twin.set_ylim(low * 0.9, high * 1.1)
                twin.yaxis.set_major_locator(LogLocator(subs=(1.0, 3.0)))
                twin.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
                twin.yaxis.set_minor_formatter(NullFormatter())
            else:
                pad = 0.05 * (high - low) or 0.05 * high
                twin.set_ylim(low - pad, high + pad)
        twin.tick_params(axis="y", which="both", labelsize=7, colors=_LOSS)
        twin.set_ylabel(LOSS_NAMES.get(kind, kind or "loss"), fontsize=7, color=_LOSS)
        best = [b for b in best_epochs.get(arm, ()) if finite(b)]
        if best:
            ax.axvline(statistics.median(best), color="0.35", linestyle=":", linewidth=1)
        if arm not in outliers:
            ax.set_ylim(*common)
        ax.set_title(arm + (f"  (grey: {other})" if other in curves else "")
                     + ("  [own scale]" if arm in outliers else ""), fontsize=8.5)
        ax.grid(alpha=0.3)
        ax.tick_params(labelsize=7)
        integer_epochs(ax)
    for ax in list(axes.flat)[len(arms):]:
        ax.set_visible(False)
    fig.supxlabel("epoch", fontsize=9)
    fig.supylabel("validation accuracy (%)", fontsize=9, color=_ACC)
    n = max((len(c.get("val_accuracy", ())) for c in curves.values()), default=0)
    fig.suptitle(f"{title}\nsolid: validation accuracy; dashed: validation loss (right axis, "
                 f"per loss kind); lines: mean over {n} seed(s), bands: min-max; dotted: median "
                 "best epoch (the weights tested)", fontsize=9.5)
    return save_figure(fig, path)
