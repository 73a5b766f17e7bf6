"""The per-run learning curve (``bench.run_curve``): a figure reused across runs draws what a
fresh one would, its text stays inside the figure without overlapping, and it takes none of
the costly paths (no layout engine, no pyplot figure, no mathtext)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import bench.run_curve as rc


def _history(epochs, loss=lambda e: 2.3 * math.exp(-e / 8) + 0.02, every=10, val=True):
    out = []
    for e in range(1, epochs + 1):
        check = val and (e % every == 0 or epochs <= 3)
        out.append({"epoch": e, "train_loss": loss(e),
                    "val_loss": 1.1 * loss(e) if check else math.nan,
                    "val_accuracy": min(0.99, 0.6 + 0.004 * e) if check else math.nan})
    return out


CASES = {
    "log scale, 100 epochs": (_history(100), "deep-no-softmax / seed 3"),
    "linear, 50 epochs": (_history(50, lambda e: 0.09 - 0.0004 * e), "momentum / seed 0"),
    "3 epochs": (_history(3), "softmax-ce / seed 1"),
    "no validation checks": (_history(20, val=False), "dropout / seed 4"),
    "checked every epoch": (_history(40, every=1), "glorot / seed 2"),
    "long tick labels": (_history(30, lambda e: 0.00835 - 0.00001 * e), "deep-no-glorot / seed 12"),
    "diverged": (_history(9, lambda e: 2.3 * 10 ** (1.5 * e) if e < 8 else math.inf),
                 "deep-no-decay / seed 4"),
    "one epoch": (_history(1), "mse-sigmoid / seed 0"),
}


@pytest.fixture
def fresh():
    """Each test starts without this process's reused figure, and leaves none behind."""
    saved, rc._figure = rc._figure, None
    yield
    rc._figure = saved


def _pixels(path):
    from PIL import Image
    with Image.open(path) as im:
        return np.asarray(im.convert("RGBA"))


def test_a_reused_figure_draws_what_a_fresh_one_does(tmp_path, fresh):
    # Every case follows a different one, so state left by any of them would show.
    order = list(CASES) + list(reversed(CASES))
    for i, name in enumerate(order):
        history, title = CASES[name]
        reused = rc.learning_curve(history, title, str(tmp_path / f"reused-{i}.png"))
        kept, rc._figure = rc._figure, None
        new = rc.learning_curve(history, title, str(tmp_path / f"fresh-{i}.png"))
        rc._figure = kept
        a, b = _pixels(reused), _pixels(new)
        assert a.shape == b.shape == (306, 810, 4), name
        assert np.array_equal(a, b), f"{name} (after {order[i - 1] if i else 'nothing'}): " \
            f"{int((a != b).any(axis=-1).sum())} pixels differ from a fresh figure"


def _drawn_tick_labels(ax, which: str, renderer) -> list:
    """Boxes of the tick labels matplotlib draws (those of ticks within the axis range)."""
    axis = ax.yaxis if which == "y" else ax.xaxis
    inner = ax.get_window_extent(renderer)
    lo, hi = (inner.y0, inner.y1) if which == "y" else (inner.x0, inner.x1)
    boxes = []
    for t in axis.get_ticklabels(which="both"):
        box = t.get_window_extent(renderer)
        middle = (box.y0 + box.y1) / 2 if which == "y" else (box.x0 + box.x1) / 2
        if t.get_visible() and t.get_text() and lo - 1 <= middle <= hi + 1:
            boxes.append((t.get_text(), box))
    return boxes


@pytest.mark.parametrize("name", list(CASES))
def test_text_stays_inside_the_figure_and_clear_of_the_tick_labels(name, tmp_path, fresh):
    history, title = CASES[name]
    rc.learning_curve(history, title, str(tmp_path / "lc.png"))
    fig, ax_loss, ax_acc = rc._figure
    renderer = fig.canvas.get_renderer()
    width, height = fig.canvas.get_width_height()
    boxes = [(fig._suptitle.get_text(), fig._suptitle.get_window_extent(renderer))]
    for ax in (ax_loss, ax_acc):
        boxes += [(t.get_text(), t.get_window_extent(renderer)) for t in (
            ax.title, ax.xaxis.label, ax.yaxis.label, *ax.texts)]
        boxes += _drawn_tick_labels(ax, "x", renderer) + _drawn_tick_labels(ax, "y", renderer)
    for text, box in boxes:
        assert box.x0 >= 0 and box.x1 <= width and box.y0 >= 0 and box.y1 <= height, \
            (name, text, box)
    for ax in (ax_loss, ax_acc):
        label = ax.yaxis.label.get_window_extent(renderer)
        ticks = _drawn_tick_labels(ax, "y", renderer)
        assert ticks, name
        assert label.x1 <= min(box.x0 for _, box in ticks), (name, ax.yaxis.label.get_text())
        xlabel = ax.xaxis.label.get_window_extent(renderer)
        assert xlabel.y1 <= min(box.y0 for _, box in _drawn_tick_labels(ax, "x", renderer))
    # the accuracy panel's y label stays right of the loss panel
    assert ax_acc.yaxis.label.get_window_extent(renderer).x0 > \
        ax_loss.get_window_extent(renderer).x1


def test_log_axis_labels_are_plain_numbers(tmp_path, fresh):
    rc.learning_curve(*CASES["log scale, 100 epochs"], str(tmp_path / "lc.png"))
    _, ax_loss, _ = rc._figure
    assert ax_loss.get_yscale() == "log"
    labels = [t.get_text() for t in ax_loss.get_yticklabels() if t.get_text()]
    assert {"0.1", "1"} <= set(labels), labels
    assert not any("$" in s for s in labels)


def test_takes_none_of_the_costly_paths(tmp_path, fresh, monkeypatch):
    import matplotlib.mathtext
    import matplotlib.pyplot as plt
    parsed = []
    original = matplotlib.mathtext.MathTextParser.parse
    monkeypatch.setattr(matplotlib.mathtext.MathTextParser, "parse",
                        lambda self, *a, **k: parsed.append(a[0]) or original(self, *a, **k))
    figures = plt.get_fignums()
    for name, (history, title) in CASES.items():
        rc.learning_curve(history, title, str(tmp_path / "lc.png"))
    fig = rc._figure[0]
    assert fig.get_layout_engine() is None  # no constrained layout
    assert plt.get_fignums() == figures  # pyplot holds no figure of ours
    assert parsed == []  # no mathtext anywhere (log tick labels included)


def test_the_png_is_the_size_it_was(tmp_path, fresh):
    from PIL import Image
    path = rc.learning_curve(*CASES["3 epochs"], str(tmp_path / "lc.png"))
    with Image.open(path) as im:
        assert im.size == (810, 306)  # 9 x 3.4 inches at 90 dpi
