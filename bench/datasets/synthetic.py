"""A random classification problem, shaped like the CIFAR-10 notebook's
gradient-check data (50 rows of 3x32x32, 10 classes) unless told otherwise."""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from .errors import DatasetError
from .raw import RawData
from .splits import STREAM_SYNTHETIC, check_n_val, split_rng

SYNTHETIC_DEFAULTS: dict[str, int] = {"n": 50, "d": 3 * 32 * 32, "classes": 10, "n_test": 10}
SYNTHETIC_N_VAL = 10


def synthetic_options(options: Mapping[str, Any]) -> dict[str, int]:
    """Fill defaults and check every option is a positive integer."""
    resolved = dict(SYNTHETIC_DEFAULTS)
    for key, value in options.items():
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise DatasetError(f"synthetic option {key!r} must be a positive integer, got {value!r}")
        resolved[key] = int(value)
    if resolved["classes"] < 2:
        raise DatasetError(f"synthetic option 'classes' must be at least 2, got {resolved['classes']}")
    return resolved


def load_synthetic(seed: int, n_val: int | None, options: Mapping[str, Any]) -> RawData:
    """Standard-normal inputs with uniformly random labels, all from ``seed``.

    Options: ``n`` training rows, ``d`` features, ``classes``, ``n_test``;
    the validation size is the usual ``n_val`` argument (default 10).
    """
    opts = synthetic_options(options)
    n, d, c, n_test = opts["n"], opts["d"], opts["classes"], opts["n_test"]
    n_val = check_n_val(n_val, None, SYNTHETIC_N_VAL)
    rng = split_rng(seed, STREAM_SYNTHETIC)
    total = n + n_val + n_test
    # Generated in float32 whatever the requested dtype, so the values for a
    # seed do not depend on it beyond rounding.
    x = rng.standard_normal((total, d), dtype=np.float32)
    y = rng.integers(0, c, size=total, dtype=np.int64)
    a, b = n, n + n_val
    shape = (3, 32, 32) if d == 3 * 32 * 32 else (d,)
    return RawData(x[:a], y[:a], x[a:b], y[a:b], x[b:], y[b:], n_classes=c, input_shape=shape,
                   source=f"synthetic N(0,1) inputs, d={d}, {c} uniform classes",
                   split=f"generated, seed {seed}", options={**opts, "n_val": n_val})
