"""What every source loader hands to load_dataset before scaling."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class RawData:
    """Split arrays in the source's own dtype (uint8 pixels, say), rows first.

    ``sha256`` maps each file read to its digest; ``source`` and ``split`` are
    short human-readable phrases used in the Dataset description.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    n_classes: int
    input_shape: tuple[int, ...]
    source: str
    split: str
    sha256: dict[str, str] = field(default_factory=dict)
    pixel_max: float | None = None  # nominal maximum, used by standardize="unit"
    options: dict = field(default_factory=dict)  # options that shaped the data
