"""IDX reader: files written by the tests themselves."""

import gzip
import struct

import numpy as np
import pytest

from bench.datasets import DatasetError, read_idx


def test_read_idx_raw_labels_returns_1d_uint8(tmp_path, idx_encode):
    labels = np.array([3, 1, 4, 1, 5, 9], dtype=np.uint8)
    path = tmp_path / "labels-idx1-ubyte"
    path.write_bytes(idx_encode(labels))
    out = read_idx(path)
    assert out.dtype == np.uint8
    np.testing.assert_array_equal(out, labels)


def test_read_idx_gzip_images_returns_3d_array(tmp_path, idx_encode):
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    path = tmp_path / "images-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(idx_encode(images)))
    out = read_idx(path)
    assert out.shape == (2, 3, 4)
    np.testing.assert_array_equal(out, images)


def test_read_idx_detects_gzip_by_content_not_name(tmp_path, idx_encode):
    images = np.ones((1, 2, 2), dtype=np.uint8)
    path = tmp_path / "no-suffix"
    path.write_bytes(gzip.compress(idx_encode(images)))
    np.testing.assert_array_equal(read_idx(path), images)


def test_read_idx_decodes_big_endian_int32_to_native(tmp_path):
    values = np.array([1, -2, 70000], dtype=">i4")
    path = tmp_path / "ints"
    path.write_bytes(bytes([0, 0, 0x0C, 1]) + struct.pack(">I", 3) + values.tobytes())
    out = read_idx(path)
    assert out.dtype == np.int32 and out.dtype.byteorder in "=<|"
    np.testing.assert_array_equal(out, [1, -2, 70000])


def test_read_idx_bad_magic_raises_dataset_error(tmp_path):
    path = tmp_path / "bad"
    path.write_bytes(b"\x01\x02\x08\x01" + struct.pack(">I", 1) + b"\x00")
    with pytest.raises(DatasetError, match="magic"):
        read_idx(path)


def test_read_idx_unknown_type_code_raises_dataset_error(tmp_path):
    path = tmp_path / "bad"
    path.write_bytes(b"\x00\x00\x07\x01" + struct.pack(">I", 1) + b"\x00")
    with pytest.raises(DatasetError, match="magic"):
        read_idx(path)


def test_read_idx_truncated_data_raises_dataset_error_naming_file(tmp_path, idx_encode):
    path = tmp_path / "short-idx3-ubyte"
    path.write_bytes(idx_encode(np.zeros((4, 5, 5), np.uint8))[:-7])
    with pytest.raises(DatasetError, match="truncated") as info:
        read_idx(path)
    assert str(path) in str(info.value)


def test_read_idx_trailing_bytes_raise_dataset_error(tmp_path, idx_encode):
    path = tmp_path / "long"
    path.write_bytes(idx_encode(np.zeros(3, np.uint8)) + b"extra")
    with pytest.raises(DatasetError, match="trailing"):
        read_idx(path)


def test_read_idx_truncated_header_raises_dataset_error(tmp_path):
    path = tmp_path / "hdr"
    path.write_bytes(b"\x00\x00\x08\x03\x00\x00")
    with pytest.raises(DatasetError, match="header"):
        read_idx(path)


def test_read_idx_truncated_gzip_stream_raises_dataset_error(tmp_path, idx_encode):
    path = tmp_path / "cut.gz"
    path.write_bytes(gzip.compress(idx_encode(np.zeros((50, 28, 28), np.uint8)))[:40])
    with pytest.raises(DatasetError, match="gzip"):
        read_idx(path)


def test_read_idx_missing_file_raises_dataset_error(tmp_path):
    with pytest.raises(DatasetError, match="cannot read"):
        read_idx(tmp_path / "nope")
