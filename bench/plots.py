"""Figures written next to the runs (matplotlib, no display needed)."""

from __future__ import annotations

import math
import os

__all__ = ["learning_curve"]


def _pyplot():
    import matplotlib
    matplotlib.use("Agg")  # files only; never open a window
    import matplotlib.pyplot as plt
    return plt


def learning_curve(history: list[dict], title: str, path: str) -> str:
    """Training and validation loss, and validation accuracy, against epoch."""
    plt = _pyplot()
    epochs = [r["epoch"] for r in history]
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(9, 3.4), constrained_layout=True)
    ax_loss.plot(epochs, [r["train_loss"] for r in history], label="train")
    val = [(r["epoch"], r["val_loss"], r["val_accuracy"]) for r in history
           if not math.isnan(r["val_loss"])]
    if val:
        ax_loss.plot([v[0] for v in val], [v[1] for v in val], "o-", label="validation")
        ax_acc.plot([v[0] for v in val], [100 * v[2] for v in val], "o-", color="C1")
    ax_loss.set(xlabel="epoch", ylabel="loss", title="loss")
    ax_loss.legend()
    ax_acc.set(xlabel="epoch", ylabel="validation accuracy (%)", title="validation accuracy")
    fig.suptitle(title)
    tmp = f"{path}.tmp.png"
    fig.savefig(tmp, dpi=90)
    plt.close(fig)
    os.replace(tmp, path)
    return path
