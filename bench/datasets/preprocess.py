"""Input scaling, always fitted on the training split only.

The original notebook standardised with statistics that included the test
images; here val/test are transformed with the training statistics, never
their own.
"""

from __future__ import annotations

import hashlib

import numpy as np

from .errors import DatasetError

STANDARDIZE_CHOICES = ("global", "per_feature", "unit", "none")

# per_feature: stds below this fraction of the global std are raised to it, so
# near-constant pixels (MNIST borders) do not blow up to 1e8 on test images.
STD_FLOOR_FRACTION = 0.01
_BLOCK = 4096  # rows per block when accumulating statistics


def check_standardize(mode: object) -> str:
    if mode not in STANDARDIZE_CHOICES:
        raise DatasetError(
            f"unknown standardize option {mode!r}; valid choices: {', '.join(STANDARDIZE_CHOICES)}"
        )
    return str(mode)


def _short_digest(*arrays: np.ndarray) -> str:
    h = hashlib.sha256()
    for a in arrays:
        h.update(np.ascontiguousarray(a, dtype=np.float64).tobytes())
    return h.hexdigest()[:16]


def _mean_std(x: np.ndarray, axis: int | None) -> tuple:
    """Float64 mean and std, accumulated over row blocks.

    ``x.std(dtype=float64)`` would materialise a float64 copy of the whole
    array (314 MB for MNIST); blocks keep the temporary small.
    """
    n = x.shape[0]
    count = n if axis == 0 else x.size
    total = 0.0 if axis is None else np.zeros(x.shape[1])
    for i in range(0, n, _BLOCK):
        total = total + x[i:i + _BLOCK].sum(axis=axis, dtype=np.float64)
    mean = total / count
    sq = 0.0 if axis is None else np.zeros(x.shape[1])
    for i in range(0, n, _BLOCK):
        d = x[i:i + _BLOCK].astype(np.float64) - mean
        if axis == 0:
            sq = sq + np.einsum("ij,ij->j", d, d)
        else:
            sq = sq + float(np.vdot(d, d))
    return mean, np.sqrt(sq / count)


def standardize(train: np.ndarray, others: list[np.ndarray], mode: str,
                pixel_max: float | None = None) -> str:
    """Scale ``train`` and ``others`` in place; return a record of what was done.

    ``pixel_max`` is the nominal maximum input value (255 for MNIST, 16 for
    digits) used by ``"unit"``; without it the training min/max are used.
    """
    mode = check_standardize(mode)
    arrays = [train, *others]
    n = train.shape[0]
    if mode == "none":
        return "none: raw input values"
    if n == 0:
        raise DatasetError("cannot compute scaling statistics from an empty training split")
    if mode == "unit":
        if pixel_max is not None:
            lo, span, how = 0.0, float(pixel_max), f"x / {pixel_max:g} (nominal pixel maximum)"
        else:
            lo, hi = float(train.min()), float(train.max())
            span = hi - lo if hi > lo else 1.0
            how = f"(x - {lo:.6g}) / {span:.6g} (train min/max)"
        for a in arrays:
            a -= lo
            a /= span
        return f"unit: {how}"
    if mode == "global":
        mean, std = (float(v) for v in _mean_std(train, None))
        scale = std if std > 0 else 1.0
        for a in arrays:
            a -= mean
            a /= scale
        return f"global: (x - {mean:.6g}) / {scale:.6g}, mean/std of all {n} training rows"
    # per_feature
    mean, std = _mean_std(train, 0)
    global_std = float(_mean_std(train, None)[1])
    floor = STD_FLOOR_FRACTION * global_std if global_std > 0 else 1.0
    scale = np.maximum(std, floor)
    mean_c, scale_c = mean.astype(train.dtype), scale.astype(train.dtype)
    for a in arrays:
        a -= mean_c
        a /= scale_c
    return (
        f"per_feature: (x - mean_j) / std_j over {mean.shape[0]} features from the "
        f"{n} training rows; std floored at {floor:.6g} ({STD_FLOOR_FRACTION:g} x global std, "
        f"{int((std < floor).sum())} features floored); mean range "
        f"[{mean.min():.6g}, {mean.max():.6g}], std range [{std.min():.6g}, {std.max():.6g}]; "
        f"stats sha256[:16] {_short_digest(mean, scale)}"
    )
