"""Where data files are looked for, and where a download is written."""

from __future__ import annotations

import os
from pathlib import Path

DATA_DIR_ENV = "BENCH_DATA_DIR"

# Directories that distribution packages install data sets into. Module-level
# so tests can empty it; the project never requires these packages.
SYSTEM_DIRS: dict[str, tuple[Path, ...]] = {
    "fashion-mnist": (
        Path("/usr/share/datasets/fashion-mnist"),  # Debian: dataset-fashion-mnist
        Path("/usr/local/share/datasets/fashion-mnist"),
    ),
}

# Sub-folders other tools use below their cache root, so an existing copy is
# reused instead of downloaded again.
_KERAS_SUBDIRS = {"mnist": "", "fashion-mnist": "fashion-mnist"}
_TORCHVISION_SUBDIRS = {"mnist": "MNIST/raw", "fashion-mnist": "FashionMNIST/raw"}


def cache_root() -> Path:
    """``$XDG_CACHE_HOME/bench``, defaulting to ``~/.cache/bench``."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base).expanduser() / "bench"


def keras_datasets_dir() -> Path:
    """Keras caches downloads in ``$KERAS_HOME/datasets`` (default ``~/.keras``)."""
    base = os.environ.get("KERAS_HOME") or str(Path.home() / ".keras")
    return Path(base).expanduser() / "datasets"


def _roots(data_dir: str | os.PathLike | None) -> list[Path]:
    roots = []
    if data_dir is not None:
        roots.append(Path(data_dir).expanduser())
    env = os.environ.get(DATA_DIR_ENV)
    if env:
        roots.append(Path(env).expanduser())
    return roots


def search_dirs(name: str, data_dir: str | os.PathLike | None = None) -> list[Path]:
    """Every directory that may hold ``name``'s files, in lookup order.

    Order: ``data_dir`` (``<data_dir>/<name>`` then ``<data_dir>`` itself),
    ``$BENCH_DATA_DIR`` likewise, the user cache, the Keras cache, then
    system-wide package directories.
    """
    dirs: list[Path] = []
    for root in _roots(data_dir):
        dirs += [root / name, root]
        if name in _TORCHVISION_SUBDIRS:
            dirs.append(root / _TORCHVISION_SUBDIRS[name])
    dirs.append(cache_root() / name)
    if name in _KERAS_SUBDIRS:
        sub = _KERAS_SUBDIRS[name]
        dirs.append(keras_datasets_dir() / sub if sub else keras_datasets_dir())
    dirs += list(SYSTEM_DIRS.get(name, ()))
    seen: set[Path] = set()
    unique = []
    for d in dirs:
        if d not in seen:
            seen.add(d)
            unique.append(d)
    return unique


def download_dir(name: str, data_dir: str | os.PathLike | None = None) -> Path:
    """Where a download goes: the first of data_dir, $BENCH_DATA_DIR, the cache."""
    roots = _roots(data_dir)
    return (roots[0] if roots else cache_root()) / name
