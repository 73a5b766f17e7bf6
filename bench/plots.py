"""Figures written next to the runs and the tables (matplotlib Agg, no display needed).

- ``learning_curve``: one run's loss and validation accuracy (an artifact of each child run).
- ``arm_learning_curves`` (``bench.curves``): small multiples, one panel per arm, from the
  metric histories MLflow holds.
- ``ablation_chart``: test accuracy per arm with 95% t-intervals, as-specified and tuned side
  by side when both tables exist.
- ``importances_chart``: an Optuna search's parameter importances, one small panel per arm.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from .curves import LOSS_NAMES, arm_learning_curves
from .figures import pyplot, save_figure
from .run_curve import learning_curve  # one run's curve; bench.runner draws it through here

__all__ = [
    "LOSS_NAMES",
    "ablation_chart",
    "arm_learning_curves",
    "importances_chart",
    "learning_curve",
    "save_figure",
]



def ablation_chart(tables: Mapping[str, object], path: str, title: str) -> str:
    """Test accuracy per arm, mean and 95% t-interval over seeds, one marker per table.

    ``tables`` maps a label (e.g. ``as specified``, ``tuned``) to a summary table with the
    columns ``arm``, ``acc_mean``, ``acc_low``, ``acc_high`` and ``runs`` (fractions), as
    ``bench.report.summarize`` returns and ``table.csv`` / ``tuned.csv`` hold. Arms keep the
    order of the first table; arms only in a later table follow. The numbers are printed in
    a column on the right, as in the table.
    """
    plt = pyplot()
    order: list[str] = []
    for t in tables.values():
        for arm in t["arm"]:
            if arm not in order:
                order.append(arm)
    k = len(tables)
    height = max(2.8, (0.42 if k == 1 else 0.55) * len(order) + 1.7)
    fig, ax = plt.subplots(figsize=(9.5, height), layout="constrained")
    offsets = [0.0] if k == 1 else [((k - 1) / 2 - i) * 0.3 for i in range(k)]  # first on top
    markers = ["o", "D", "s", "^"]
    y_of = {arm: len(order) - 1 - i for i, arm in enumerate(order)}
    lows, handles = [], []
    # An arm far below the rest (the MSE baseline, say) would squeeze every other interval
    # into a sliver: it is drawn off scale, at the left edge, its numbers still printed.
    means = [100 * float(m) for t in tables.values() for m in t["acc_mean"] if math.isfinite(float(m))]
    floor = (sorted(means)[len(means) // 2] - 25) if means else -math.inf
    # ...unless the axis reaches down to it anyway, for an interval of an arm kept on scale.
    kept = [100 * float(lo if math.isfinite(float(lo)) else m) for t in tables.values()
            for m, lo in zip(t["acc_mean"], t["acc_low"])
            if math.isfinite(float(m)) and 100 * float(m) >= floor]
    floor = min([floor, *(low - 3 for low in kept)])
    off_scale = []
    for i, (label, t) in enumerate(tables.items()):
        color = f"C{i}"
        ys, xs, err_lo, err_hi, single = [], [], [], [], []
        for row in t.itertuples():
            mean = float(row.acc_mean)
            if not math.isfinite(mean):
                continue
            y = y_of[row.arm] + offsets[i]
            low, high = float(row.acc_low), float(row.acc_high)
            runs = float(getattr(row, "runs", math.nan))
            if 100 * mean < floor:
                off_scale.append((y, color))
                text = (f"{100 * mean:.2f} ± {100 * (high - low) / 2:.2f}"
                        if math.isfinite(low) else f"{100 * mean:.2f}") + "  off scale"
            elif math.isfinite(low) and math.isfinite(high):
                ys.append(y), xs.append(100 * mean)
                err_lo.append(100 * (mean - low)), err_hi.append(100 * (high - mean))
                lows.append(100 * low)
                text = f"{100 * mean:.2f} ± {100 * (high - low) / 2:.2f}"
            else:
                single.append((y, 100 * mean))
                lows.append(100 * mean)
                text = f"{100 * mean:.2f}"
            if math.isfinite(runs):
                text += f"  (n={int(runs)})"
            ax.text(1.015, y, text, transform=ax.get_yaxis_transform(), va="center",
                    fontsize=8, color=color, family="monospace")
        if xs:
            handles.append(ax.errorbar(xs, ys, xerr=[err_lo, err_hi], fmt=markers[i % 4],
                                       color=color, capsize=3, markersize=5, linewidth=1.4,
                                       label=label))
        if single:
            handles += ax.plot([s[1] for s in single], [s[0] for s in single], markers[i % 4],
                               mfc="none", color=color, label=f"{label}, no interval")
    ax.set_yticks(range(len(order)), list(reversed(order)))
    ax.set_ylim(-0.6, len(order) - 0.4)
    left = max(0.0, (min(lows) if lows else 0) - 3)
    ax.set_xlim(left, 100.5)
    for y, color in off_scale:
        ax.plot([left], [y], marker="<", markersize=9, color=color, clip_on=False)
        ax.text(left, y + 0.22, " far below: see the numbers", fontsize=7, color=color)
    ax.set_xlabel("test accuracy (%)")
    ax.grid(axis="x", alpha=0.3)
    for y in range(len(order) - 1):
        ax.axhline(y + 0.5, color="0.88", linewidth=0.8)
    ax.text(1.015, 1.01, "mean ± half-width", transform=ax.transAxes, fontsize=8,
            va="bottom", color="0.3")
    ax.set_title(title)
    fig.legend(handles=handles, loc="outside lower center", ncols=len(handles), fontsize=8.5, frameon=False,
               title="markers: mean; bars: 95% t-interval over seeds (clipped at the axis)",
               title_fontsize=8.5)
    return save_figure(fig, path)


def importances_chart(importances: Mapping[str, Mapping[str, float]], path: str,
                      title: str) -> str | None:
    """Optuna parameter importances (fANOVA, summing to 1 per arm), one bar panel per arm.

    Arms with no importances (too few completed trials) get an empty panel saying so.
    Returns ``None`` when no arm has any.
    """
    if not any(importances.values()):
        return None
    plt = pyplot()
    arms = list(importances)
    params = sorted({p for imp in importances.values() for p in imp})
    ncols = min(4, len(arms))
    nrows = math.ceil(len(arms) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.4 * ncols + 0.6, 0.32 * len(params) * nrows
                                                    + 1.1 * nrows + 0.9),
                             squeeze=False, constrained_layout=True)
    for ax, arm in zip(axes.flat, arms):
        imp = importances[arm]
        ax.set_title(arm, fontsize=9.5)
        ax.set_xlim(0, 1)
        if not imp:
            ax.text(0.5, 0.5, "too few completed trials", ha="center", va="center", fontsize=8,
                    color="0.4", transform=ax.transAxes)
            ax.set_yticks([])
            continue
        names = [p for p in params if p in imp]
        ys = range(len(names))
        ax.barh(list(ys), [imp[p] for p in names], color="C0")
        for y, p in zip(ys, names):
            inside = imp[p] > 0.8  # no room to the right: white, inside the bar's end
            ax.text(imp[p] - 0.02 if inside else imp[p] + 0.02, y, f"{imp[p]:.2f}", va="center",
                    ha="right" if inside else "left", fontsize=7.5,
                    color="white" if inside else "black")
        ax.set_yticks(list(ys), names, fontsize=8)
        ax.invert_yaxis()
        ax.grid(axis="x", alpha=0.3)
    for ax in list(axes.flat)[len(arms):]:
        ax.set_visible(False)
    fig.supxlabel("importance (fANOVA; each arm's importances sum to 1)", fontsize=9)
    fig.suptitle(title, fontsize=11)
    return save_figure(fig, path)
