"""One run's learning curve: the PNG every child run carries as an MLflow artifact.

It is drawn once per run, so it is kept cheap (about a quarter of the CPU time of a pyplot
figure with constrained layout):

* one figure per process, reused: its axes and tick objects are recycled and only the
  lines, texts, scales and panel positions change (building axes and ticks is costly);
* panels placed from the y tick labels' text widths instead of constrained layout (which
  lays the figure out by drawing it) or matplotlib's own label placement (which lays out
  every tick label again at each draw); titles at a fixed height for the same reason;
* plain-number tick labels on a log axis (the default ``10^{-1}`` labels go through the
  mathtext parser);
* zlib's fastest PNG level.

``tests/bench/test_run_curve.py`` checks that a reused figure gives the same pixels as a
fresh one.
"""

from __future__ import annotations

import threading

from .figures import finite, maybe_log, save_figure

__all__ = ["learning_curve"]

SIZE_IN = (9.0, 3.4)
DPI = 90
# Figure fractions; the room left of each panel comes from its y tick labels (``_arrange``).
MARGINS = dict(right=0.985, bottom=0.15, top=0.82)
PNG = {"compress_level": 1}  # zlib's fastest level: ~8% larger files, 1/3 of the encode time

_lock = threading.Lock()
_figure = None  # (Figure, loss axes, accuracy axes), made on first use in each process


def _plain_log_labels(axis) -> None:
    """Label a log axis 0.01, 0.2, 1, 30 ... (the ticks matplotlib labels by default)
    without mathtext."""
    from matplotlib.ticker import LogFormatter

    class Plain(LogFormatter):
        def _num_to_string(self, x, vmin, vmax):
            return f"{x:.3g}"

    axis.set_major_formatter(Plain(base=10))
    axis.set_minor_formatter(Plain(base=10, labelOnlyBase=False))


def _new_figure():
    import matplotlib
    matplotlib.use("Agg")  # files only; never open a window
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=SIZE_IN, dpi=DPI)
    FigureCanvasAgg(fig)
    ax_loss, ax_acc = fig.subplots(1, 2)
    fig.subplots_adjust(**MARGINS)
    ax_loss.set(xlabel="epoch", ylabel="loss")
    ax_acc.set(xlabel="epoch", ylabel="validation accuracy (%)")
    for ax, name in ((ax_loss, "loss"), (ax_acc, "validation accuracy")):
        ax.set_title(name, y=1.0)  # a fixed y: no layout of both y axes per title
        ax.grid(alpha=0.3)
    fig.canvas.draw()  # once, to read where matplotlib puts the x labels: below one
    for ax in (ax_loss, ax_acc):  # line of tick labels, the same for every run
        label = ax.xaxis.label
        at = label.get_transform().transform(label.get_position())
        ax.xaxis.set_label_coords(*ax.transAxes.inverted().transform(at))
    return fig, ax_loss, ax_acc


def _place_ylabel(fig, ax) -> float:
    """Put the y label where matplotlib would (left of the widest tick label shown, by
    ``labelpad``), from the tick labels' text widths; return the pixels it all takes left
    of the axes."""
    import numpy as np
    from matplotlib.transforms import ScaledTranslation
    axis = ax.yaxis
    renderer = fig.canvas.get_renderer()
    to_scale = axis.get_transform().transform
    lo, hi = sorted(to_scale(np.asarray(axis.get_view_interval(), float)))
    tol = 1e-6 * (hi - lo)
    tick = axis.get_major_ticks()[0]
    prop = tick.label1.get_fontproperties()
    width = 0.0
    for locs, formatter in ((axis.get_majorticklocs(), axis.get_major_formatter()),
                            (axis.get_minorticklocs(), axis.get_minor_formatter())):
        locs = np.asarray(locs, float)
        for text, at in zip(formatter.format_ticks(locs), to_scale(locs)):
            if text and lo - tol <= at <= hi + tol:
                width = max(width, renderer.get_text_width_height_descent(text, prop, False)[0])
    points = tick.get_tick_padding() + tick.get_pad() + axis.labelpad + width * 72 / fig.dpi
    axis.set_label_coords(0, 0.5, transform=ax.transAxes + ScaledTranslation(
        -points / 72, 0, fig.dpi_scale_trans))
    label = axis.label
    thickness = renderer.get_text_width_height_descent(
        label.get_text(), label.get_fontproperties(), False)[1]
    return points * fig.dpi / 72 + thickness


def _arrange(fig, ax_loss, ax_acc, left_px: float, gap_px: float) -> None:
    """Two equal panels with just the room their y labels need on their left (plus a few
    pixels, and half an x tick label between the panels)."""
    width, _ = fig.canvas.get_width_height()
    x0, x1 = left_px + 6, MARGINS["right"] * width
    gap = gap_px + 16
    panel = (x1 - x0 - gap) / 2
    height = MARGINS["top"] - MARGINS["bottom"]
    ax_loss.set_position([x0 / width, MARGINS["bottom"], panel / width, height])
    ax_acc.set_position([(x0 + panel + gap) / width, MARGINS["bottom"], panel / width, height])


def _blank(ax) -> None:
    """Back to a fresh axes' state, keeping the axes and their tick objects."""
    from matplotlib.ticker import MaxNLocator
    for artist in [*ax.lines, *ax.texts]:
        artist.remove()
    if ax.legend_ is not None:
        ax.legend_.remove()
    ax.set_prop_cycle(None)  # the next line is C0 again
    ax.set_yscale("linear")  # default locators and formatters
    ax.relim()
    ax.set(xlim=(0, 1), ylim=(0, 1))  # a fresh axes' limits, for a panel left empty
    ax.set_autoscale_on(True)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, steps=[1, 2, 5, 10]))


def learning_curve(history: list[dict], title: str, path: str) -> str:
    """One run: training and validation loss, and validation accuracy, against epoch."""
    global _figure
    with _lock:
        if _figure is None:
            _figure = _new_figure()
        fig, ax_loss, ax_acc = _figure
        for ax in (ax_loss, ax_acc):
            _blank(ax)
        epochs = [r["epoch"] for r in history]
        train = [r["train_loss"] for r in history]
        ax_loss.plot(epochs, train, label="training (mean over the epoch)")
        val = [(r["epoch"], r["val_loss"], r["val_accuracy"]) for r in history
               if finite(r["val_loss"])]
        marker = "o-" if len(val) <= 30 else "-"
        if val:
            ax_loss.plot([v[0] for v in val], [v[1] for v in val], marker, label="validation")
            ax_acc.plot([v[0] for v in val], [100 * v[2] for v in val], marker, color="C1")
        else:
            ax_acc.text(0.5, 0.5, "no validation checks", ha="center", va="center",
                        transform=ax_acc.transAxes, color="0.4")
        maybe_log(ax_loss, train + [v[1] for v in val])
        if ax_loss.get_yscale() == "log":
            _plain_log_labels(ax_loss.yaxis)
        ax_loss.legend(fontsize=8)
        _arrange(fig, ax_loss, ax_acc, _place_ylabel(fig, ax_loss), _place_ylabel(fig, ax_acc))
        fig.suptitle(title)
        return save_figure(fig, path, dpi=DPI, pil_kwargs=PNG)
