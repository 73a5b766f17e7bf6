"""``bench search lr-grid``: notebook 003's learning-rate x weight-scale experiment, done fully.

Deep ReLU nets with and without batch norm are trained at every (learning rate, weight
scale) of a grid, learning rate 1e-5 .. 1e5 on a log scale and weight scale 0.01 .. 0.09;
the notebook zipped 100 such pairs element-wise instead (``--zipped``). The objective is the
final training loss, as in the notebook; a heat map shows where each net trains and where it
diverges.
"""

from __future__ import annotations

import math
import os

import numpy as np

from experiments import Arm, Experiment, Option, get_experiment
from experiments.search_space import Float

from ..figures import pyplot, save_figure

__all__ = ["lr_grid_setup", "write_heatmap", "LR_GRID", "WS_GRID", "zipped_pairs", "OPTIONS",
           "DEPTH"]

OPTIONS = (Option("zipped", bool, "the notebook's 100 zipped (lr, weight scale) pairs, not the "
                  "full grid", many=False),)
DEPTH = 5  # affine layers of both nets, as in the notebook

LR_GRID = [float(10.0 ** k) for k in range(-5, 6)]
WS_GRID = [float(w) for w in np.linspace(0.01, 0.09, 5)]


def zipped_pairs(n: int = 100) -> list[tuple[float, float]]:
    """The notebook's pairs: lr geometric 1e-5..1e5 and weight scale linear 0.01..0.09, zipped."""
    return list(zip(np.geomspace(1e-5, 1e5, n).tolist(), np.linspace(0.01, 0.09, n).tolist()))


def lr_grid_setup(args):
    exp = get_experiment("batchnorm", depths=(DEPTH,), weight_scales=(0.05,),
                         dataset=args.dataset or "synthetic")
    changes = {}
    if args.quick:
        changes["epochs"] = 10
    if args.epochs:  # wins over --quick, as for the other experiments
        changes["epochs"] = args.epochs
    exp = exp.map_configs(**changes)
    # The weight scale is searched here, so the arm names drop it.
    arms = tuple(Arm(a.name.rsplit("-ws", 1)[0], a.config, a.description.split(", weight scale")[0],
                     a.compare_to.rsplit("-ws", 1)[0] if a.compare_to else None) for a in exp.arms)
    exp = Experiment("lr-grid", "Notebook 003's learning-rate x weight-scale grid, deep ReLU nets "
                     "with and without batch norm.", arms, arms[0].name)
    space = {"lr": Float(1e-5, 1e5, log=True), "weight_scale": Float(0.01, 0.09)}
    if args.zipped:
        grid = {"pairs": zipped_pairs(20 if args.quick else 100)}
    elif args.quick:
        grid = {"lr": LR_GRID[::2], "weight_scale": WS_GRID[::2]}
    else:
        grid = {"lr": LR_GRID, "weight_scale": WS_GRID}
    spaces = {a.name: space for a in exp.arms}
    grids = {a.name: grid for a in exp.arms}
    return exp, spaces, grids


def _cells(study):
    import optuna
    out = []
    for t in study.get_trials(deepcopy=False):
        if "lr" not in t.params:
            continue
        if t.state == optuna.trial.TrialState.COMPLETE and t.value is not None and math.isfinite(t.value):
            out.append((t.params["lr"], t.params["weight_scale"], t.value))
        elif t.state == optuna.trial.TrialState.FAIL and t.user_attrs.get("bench_outcome") == "diverged":
            out.append((t.params["lr"], t.params["weight_scale"], math.nan))
    return out


def _labels_fit(cells) -> bool:
    """Cell labels only on a full, small grid: the zipped pairs lie along a diagonal, where
    labels of neighbouring cells print over each other."""
    lrs, scales = {c[0] for c in cells}, {c[1] for c in cells}
    return len(lrs) * len(scales) == len(cells) and len(lrs) <= 12 and len(scales) <= 10


def write_heatmap(tracker, search_run: str, outcome: dict, storage_url, out_dir: str) -> str:
    import optuna
    from matplotlib.colors import LogNorm

    from .storage import open_storage
    storage = open_storage(storage_url)
    plt = pyplot()
    arms = list(outcome)
    fig, axes = plt.subplots(1, len(arms), figsize=(5.2 * len(arms), 4.2), squeeze=False,
                             constrained_layout=True)
    values = [v for a in arms for *_, v in _cells(optuna.load_study(
        study_name=outcome[a].study, storage=storage)) if not math.isnan(v)]
    cap = 1e3  # finite but exploded losses (1e14) would flatten every other colour
    norm = (LogNorm(vmin=max(min(values), 1e-4), vmax=max(min(max(values), cap), min(values) * 10))
            if values else None)
    mappable = None
    for ax, arm in zip(axes[0], arms):
        cells = _cells(optuna.load_study(study_name=outcome[arm].study, storage=storage))
        ok = [(lr, ws, v) for lr, ws, v in cells if not math.isnan(v)]
        bad = [(lr, ws) for lr, ws, v in cells if math.isnan(v)]
        labelled = _labels_fit(cells)
        if ok:
            mappable = ax.scatter([c[0] for c in ok], [c[1] for c in ok], c=[max(c[2], 1e-4) for c in ok],
                                  norm=norm, cmap="viridis", s=300 if labelled else 45, marker="s")
            for lr, ws, v in ok if labelled else ():  # the value, readable without the colour bar
                ax.annotate(f"{v:.2g}", (lr, ws), ha="center", va="center", fontsize=6.5,
                            color="black" if norm(max(v, 1e-4)) > 0.6 else "white")
        if bad:
            ax.scatter([b[0] for b in bad], [b[1] for b in bad], marker="x", color="red", s=80,
                       label="diverged (NaN/inf loss)")
            ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), fontsize=8, frameon=False)
        ax.set_xscale("log")
        ax.set(xlabel="learning rate", ylabel="weight scale (init std)", title=arm)
    if mappable is not None:
        fig.colorbar(mappable, ax=axes[0].tolist(), extend="max" if max(values) > cap else "neither",
                     label="final training loss (log scale)")
    fig.suptitle("Where each network trains: final training loss over learning rate x weight scale")
    path = save_figure(fig, os.path.join(out_dir, "lr_grid_heatmap.png"), dpi=130)
    tracker.log_artifact(search_run, path)
    return path
