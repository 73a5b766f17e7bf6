"""The real MNIST t10k files (shared/data) and, when installed, Debian's
Fashion-MNIST: pinned checksums match the published ones and the data loads."""

import dataclasses
import hashlib
import shutil
from pathlib import Path

import numpy as np
import pytest

from bench.datasets import SOURCES, FileSpec, load_dataset, read_idx
from bench.datasets import locate
from bench.datasets.checksums import read_verified
from bench.datasets.idx_sources import FASHION_MNIST, MNIST


def test_real_t10k_images_have_mnist_shape(t10k_dir):
    images = read_idx(t10k_dir / "t10k-images-idx3-ubyte.gz")
    assert images.shape == (10000, 28, 28) and images.dtype == np.uint8


def test_real_t10k_labels_are_digits_0_to_9(t10k_dir):
    labels = read_idx(t10k_dir / "t10k-labels-idx1-ubyte.gz")
    assert labels.shape == (10000,)
    assert set(np.unique(labels)) == set(range(10))


@pytest.mark.parametrize("spec", [MNIST.test_images, MNIST.test_labels], ids=lambda s: s.filename)
def test_real_t10k_file_passes_pinned_sha256(t10k_dir, spec):
    vf = read_verified(t10k_dir / spec.filename, spec)
    assert vf.sha256 == spec.sha256


@pytest.mark.parametrize("spec", [MNIST.test_images, MNIST.test_labels], ids=lambda s: s.filename)
def test_real_t10k_file_matches_published_md5(t10k_dir, spec):
    data = (t10k_dir / spec.filename).read_bytes()
    assert hashlib.md5(data).hexdigest() == spec.md5


@pytest.mark.parametrize("spec", [MNIST.test_images, MNIST.test_labels], ids=lambda s: s.filename)
def test_real_t10k_uncompressed_copy_passes_content_checksum(t10k_dir, tmp_path, spec):
    plain = tmp_path / spec.plain_name
    plain.write_bytes(read_verified(t10k_dir / spec.filename, spec).payload)
    assert read_verified(plain, spec).path == plain


def test_mnist_loader_reads_real_t10k_as_test_split(t10k_dir, tiny, tmp_path, monkeypatch):
    # Real test files; tiny stand-ins for the 60k training files we do not have.
    monkeypatch.setitem(SOURCES, "mnist", dataclasses.replace(
        tiny.source(), test_images=MNIST.test_images, test_labels=MNIST.test_labels))
    data = tiny.write(tmp_path / "data" / "mnist", tiny.names[:2])
    for spec in (MNIST.test_images, MNIST.test_labels):
        shutil.copy(t10k_dir / spec.filename, data / spec.filename)
    ds = load_dataset("mnist", data_dir=tmp_path / "data", n_val=10, standardize="none")
    assert ds.x_test.shape == (10000, 784) and ds.x_test.dtype == np.float32
    assert ds.fingerprint["sha256"]["t10k-images-idx3-ubyte.gz"] == MNIST.test_images.sha256
    assert 0 <= ds.x_test.min() and ds.x_test.max() == 255


DEBIAN_FASHION = Path("/usr/share/datasets/fashion-mnist")


@pytest.mark.skipif(not (DEBIAN_FASHION / "train-images-idx3-ubyte.gz").is_file(),
                    reason="Debian's dataset-fashion-mnist is not installed")
def test_fashion_mnist_loads_from_debian_package_dir(monkeypatch):
    monkeypatch.setattr(locate, "SYSTEM_DIRS", {"fashion-mnist": (DEBIAN_FASHION,)})
    ds = load_dataset("fashion-mnist", download=False)
    assert (len(ds.y_train), len(ds.y_val), len(ds.y_test)) == (50000, 10000, 10000)
    assert ds.x_train.shape == (50000, 784) and ds.x_train.dtype == np.float32
    assert np.bincount(ds.y_test).tolist() == [1000] * 10
    assert set(ds.fingerprint["sha256"]) == {s.filename for s in FASHION_MNIST.files}


def test_pinned_specs_all_carry_sha256_and_md5():
    for spec in (*MNIST.files, *FASHION_MNIST.files):
        assert isinstance(spec, FileSpec)
        assert len(spec.sha256) == 64 and len(spec.md5) == 32 and len(spec.content_sha256) == 64
