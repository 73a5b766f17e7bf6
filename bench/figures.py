"""Figure set-up shared by every figure the harness draws: pyplot on the file-only Agg
backend, atomic saving, and the small axis helpers the figures have in common."""

from __future__ import annotations

import math
import os

__all__ = ["pyplot", "save_figure", "integer_epochs", "finite", "maybe_log"]


def pyplot():
    """``matplotlib.pyplot`` on the Agg backend (files only; never opens a window)."""
    import matplotlib  # here, not at the top: importing matplotlib costs ~0.3 s of start-up
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def save_figure(fig, path: str, dpi: int = 110, **savefig_kwargs) -> str:
    """Write ``fig`` to ``path`` atomically (readers never see half a PNG) and close it
    (a bare ``Figure``, which pyplot does not hold, is simply dropped)."""
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    tmp = f"{path}.tmp.png"
    try:
        fig.savefig(tmp, dpi=dpi, **savefig_kwargs)
        os.replace(tmp, path)
    finally:
        if getattr(fig.canvas, "manager", None) is not None:  # made by pyplot
            pyplot().close(fig)
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def integer_epochs(ax) -> None:
    """Whole-number ticks on the x (epoch) axis."""
    from matplotlib.ticker import MaxNLocator
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, steps=[1, 2, 5, 10]))


def finite(x) -> bool:
    return x is not None and isinstance(x, (int, float)) and math.isfinite(x)


def maybe_log(ax, values) -> None:
    """Log scale when the values span more than a factor of 20 (and are all positive)."""
    vals = [v for v in values if finite(v)]
    if vals and min(vals) > 0 and max(vals) / min(vals) > 20:
        ax.set_yscale("log")
