"""Notebook 003: deep (affine -> batch norm -> ReLU) x (L - 1) -> affine networks against the
same networks without batch norm, at several depths and weight scales.

Defaults follow the notebook: 100 units per hidden layer, weight scale 5e-2, plain SGD with
lr 0.2 (the notebook's "momentum" reset its velocity every step, so plain SGD is what it ran),
100 full-batch steps on its random CIFAR-shaped problem (N = 50). Depth, width and scales
are arguments, so the command line can set them (the notebook asked with ``input()``).
"""

from __future__ import annotations

from .config import RunConfig
from .experiment import Arm, Experiment
from .options import Option

__all__ = ["make_batchnorm", "OPTIONS", "MAX_DEPTH"]

MAX_DEPTH = 1_000  # deeper is a typo, not an experiment (widths are bounded likewise)

OPTIONS = (
    Option("depths", int, "network depths (affine layers), e.g. 3,5"),
    Option("widths", int, "hidden width, or one per hidden layer"),
    Option("weight_scales", float, "init std values, e.g. 0.01,0.05"),
)


def make_batchnorm(depths=(3, 5), widths=(100,), weight_scales=(0.01, 0.05),
                   dataset: str = "synthetic") -> Experiment:
    """``depths`` count affine layers (L), so a depth-5 net has 4 hidden layers of ``width``.

    ``widths`` is either one width used by every hidden layer, or L - 1 widths (for a single
    depth) giving each hidden layer its own size.
    """
    widths = tuple(int(w) for w in widths)
    arms = []
    for depth in depths:
        if depth < 2:
            raise ValueError(f"depth must be >= 2 (at least one hidden layer), got {depth}")
        if depth > MAX_DEPTH:
            raise ValueError(f"depth must be <= {MAX_DEPTH}, got {depth}")
        if len(widths) == 1:
            hidden = widths * (depth - 1)
        elif len(widths) == depth - 1:
            hidden = widths
        else:
            raise ValueError(f"widths must be one number or depth - 1 = {depth - 1} numbers, got {list(widths)}")
        for scale in weight_scales:
            base = RunConfig(
                dataset=dataset, hidden=hidden, activation="relu", init="normal",
                weight_scale=float(scale), lr=0.2, epochs=100, batch_size=50)
            tag = f"L{depth}-ws{scale:g}"
            plain = Arm(f"plain-{tag}", base, f"{depth} affine layers, no batch norm, weight scale {scale:g}")
            bn = Arm(f"bn-{tag}", base.replace(batchnorm=True),
                     f"{depth} affine layers with batch norm, weight scale {scale:g}", plain.name)
            arms += [plain, bn]
    return Experiment(
        name="batchnorm",
        description="Deep ReLU nets with and without batch norm across depths and weight scales "
                    "(notebook 003).",
        arms=tuple(arms), baseline=arms[0].name)
