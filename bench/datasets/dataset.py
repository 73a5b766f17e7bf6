"""The Dataset container handed to experiments, and one-hot encoding."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .errors import DatasetError

SPLITS = ("train", "val", "test")


def one_hot(labels: Any, n_classes: int, dtype: Any = np.float32) -> np.ndarray:
    """Return a (n, n_classes) one-hot matrix for integer ``labels``."""
    y = np.asarray(labels)
    if y.ndim != 1:
        raise DatasetError(f"one_hot expects 1-D labels, got shape {y.shape}")
    if not np.issubdtype(y.dtype, np.integer):
        raise DatasetError(f"one_hot expects integer labels, got dtype {y.dtype}")
    if isinstance(n_classes, bool) or not isinstance(n_classes, (int, np.integer)) or n_classes < 1:
        raise DatasetError(f"n_classes must be a positive integer, got {n_classes!r}")
    if y.size and (y.min() < 0 or y.max() >= n_classes):
        raise DatasetError(
            f"labels must lie in 0..{n_classes - 1}, got range {int(y.min())}..{int(y.max())}"
        )
    out = np.zeros((y.shape[0], int(n_classes)), dtype=dtype)
    out[np.arange(y.shape[0]), y] = 1
    return out


# eq=False: comparing arrays field by field has no single truth value.
@dataclass(frozen=True, eq=False)
class Dataset:
    """Train/validation/test arrays plus what is needed to reproduce them.

    ``x_*`` are float (float32 by default), flattened to (n, n_features);
    ``y_*`` are int64 class labels in 0..n_classes-1. ``fingerprint`` is a
    JSON-serialisable record (name, split sizes, file digests, preprocessing)
    meant to be logged next to every run.
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    n_classes: int
    input_shape: tuple[int, ...]
    fingerprint: dict
    description: str

    @property
    def n_features(self) -> int:
        return int(self.x_train.shape[1])

    def one_hot(self, split: str) -> np.ndarray:
        """Float32 one-hot encoding of ``y_<split>`` (split: train, val or test)."""
        if split not in SPLITS:
            raise DatasetError(
                f"unknown split {split!r}; valid splits: {', '.join(SPLITS)}"
            )
        return one_hot(getattr(self, f"y_{split}"), self.n_classes)

    def __repr__(self) -> str:
        # The default repr would print every array; a summary is what is wanted.
        return (
            f"Dataset(name={self.name!r}, train={len(self.y_train)}, "
            f"val={len(self.y_val)}, test={len(self.y_test)}, "
            f"n_features={self.n_features}, n_classes={self.n_classes})"
        )
