"""The ablation's result as a picture: a forest plot of the paired differences.

One row per comparison: the mean difference in test accuracy with its 95% interval, every
seed's own difference as a dot (so the reader sees the pairing at work), a zero line, and the
verdict written on the row. One panel per comparison family.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

__all__ = ["forest_plot", "seed_differences"]

_COLOURS = {"better": "#1b7837", "worse": "#b2182b"}
_NEUTRAL = "#4d4d4d"


def seed_differences(runs: pd.DataFrame, arm: str, other: str) -> list[float]:
    """Test-accuracy differences ``arm - other`` at every seed both finished (in points)."""
    done = runs[runs["status"] == "FINISHED"]
    a = done[done["arm"] == arm].set_index("seed")["test_accuracy"]
    b = done[done["arm"] == other].set_index("seed")["test_accuracy"]
    shared = sorted(set(a.index) & set(b.index))
    return [float(a[s] - b[s]) * 100 for s in shared if math.isfinite(a[s] - b[s])]


def _rows(summary: pd.DataFrame, prefix: str) -> list[dict]:
    rows = []
    for r in summary.itertuples():
        other = getattr(r, f"d_{prefix}_vs")
        if isinstance(other, str):
            g = lambda k: getattr(r, f"d_{prefix}_{k}")  # noqa: E731
            rows.append({"arm": r.arm, "other": other, "mean": g("acc") * 100,
                         "low": g("low") * 100, "high": g("high") * 100,
                         "verdict": g("verdict") or "", "padj": g("padj"),
                         "detectable": g("detectable")})
    return rows


def _label(row: dict) -> str:
    verdict = row["verdict"]
    if verdict == "no detectable difference":
        miss = row["detectable"]
        return ("no difference" if not math.isfinite(miss) or miss >= 1
                else f"no difference (±{miss * 100:.1f})")
    return verdict


def _panel(ax, rows: list[dict], runs: pd.DataFrame, heading: str) -> None:
    rng = np.random.default_rng(0)  # jitter only: fixed, so the figure is reproducible
    for i, row in enumerate(rows):
        y = len(rows) - 1 - i
        colour = _COLOURS.get(row["verdict"], _NEUTRAL)
        dots = seed_differences(runs, row["arm"], row["other"])
        ax.scatter(dots, y + rng.uniform(-0.18, 0.18, len(dots)), s=14, color=colour, alpha=0.55,
                   linewidths=0, zorder=2)
        if math.isfinite(row["low"]):
            ax.plot([row["low"], row["high"]], [y, y], color=colour, lw=2.2, zorder=3)
        ax.plot([row["mean"]], [y], marker="D", ms=5, color=colour, zorder=4)
        ax.annotate(_label(row), xy=(1.01, y), xycoords=("axes fraction", "data"), va="center",
                    fontsize=8, color=colour, annotation_clip=False)
    ax.axvline(0, color="#888888", lw=0.8, zorder=1)
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels([f"{r['arm']}  vs  {r['other']}" for r in reversed(rows)], fontsize=8)
    ax.set_ylim(-0.7, len(rows) - 0.3)
    ax.set_title(heading, fontsize=9, loc="left")
    ax.grid(axis="x", color="#e5e5e5", lw=0.6)
    ax.set_axisbelow(True)


def forest_plot(summary: pd.DataFrame, runs: pd.DataFrame, path: str, title: str,
                baseline: str = "") -> str | None:
    """Write the forest plot to ``path`` (PNG); ``None`` when there is nothing to compare."""
    from .figures import pyplot, save_figure
    families = [(rows, h) for rows, h in (
        (_rows(summary, "prev"), "each arm vs the arm it changes"),
        (_rows(summary, "base"), f"each arm vs the baseline {baseline}".rstrip())) if rows]
    if not families:
        return None
    plt = pyplot()
    heights = [len(rows) for rows, _ in families]
    # At least ~0.75 in between panels (the upper one's tick labels, the lower one's heading),
    # however few rows they have: hspace is a fraction of the mean panel height.
    mean_panel = 0.32 * sum(heights) / len(families)
    hspace = max(0.22, 0.75 / mean_panel)
    extra = (hspace - 0.22) * mean_panel * (len(families) - 1)
    fig, axes = plt.subplots(len(families), 1, figsize=(9.5, 1.1 + 0.32 * sum(heights) + extra),
                             gridspec_kw={"height_ratios": heights}, squeeze=False)
    for ax, (rows, heading) in zip(axes[:, 0], families):
        _panel(ax, rows, runs, heading)
    axes[-1, 0].set_xlabel("difference in test accuracy (percentage points): "
                           "95% interval, mean (◆) and each seed (•)", fontsize=8)
    fig.suptitle(title, fontsize=10, x=0.01, ha="left")
    fig.subplots_adjust(left=0.3, right=0.8, top=1 - 0.5 / fig.get_figheight(),
                        bottom=0.5 / fig.get_figheight() + 0.02, hspace=hspace)
    return save_figure(fig, path)
