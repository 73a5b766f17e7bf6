"""Reader for the IDX format used by MNIST and Fashion-MNIST.

Layout (big-endian): two zero bytes, a type code, the number of dimensions,
one uint32 per dimension, then the values in C order.
"""

from __future__ import annotations

import gzip
import os
import zlib
from pathlib import Path

import numpy as np

from .errors import DatasetError

GZIP_MAGIC = b"\x1f\x8b"

# Type codes from the IDX specification, with their big-endian numpy dtypes.
_IDX_DTYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


def gunzip_bytes(data: bytes, source: str | os.PathLike) -> bytes:
    """Decompress gzip ``data``; a damaged stream becomes a DatasetError."""
    try:
        return gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as exc:
        raise DatasetError(
            f"{source}: truncated or corrupt gzip data ({exc}); "
            "delete the file and re-run to download it again"
        ) from None


def maybe_gunzip(data: bytes, source: str | os.PathLike) -> bytes:
    """Return ``data`` decompressed if it starts with the gzip magic, else as is."""
    return gunzip_bytes(data, source) if data[:2] == GZIP_MAGIC else data


def parse_idx(data: bytes, source: str | os.PathLike = "<bytes>") -> np.ndarray:
    """Decode uncompressed IDX bytes into an array in native byte order.

    Single-byte types come back as a read-only view of ``data`` (no copy),
    which matters for the 47 MB MNIST training images.
    """
    if len(data) < 4:
        raise DatasetError(f"{source}: not an IDX file (only {len(data)} bytes)")
    if data[0] != 0 or data[1] != 0 or data[2] not in _IDX_DTYPES:
        raise DatasetError(
            f"{source}: bad IDX magic number 0x{data[:4].hex()} "
            "(expected 0x0000 followed by a type code and the number of dimensions)"
        )
    dtype = _IDX_DTYPES[data[2]]
    ndim = data[3]
    if ndim == 0:
        raise DatasetError(f"{source}: IDX header declares zero dimensions")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DatasetError(f"{source}: truncated IDX header ({len(data)} bytes)")
    dims = tuple(int(d) for d in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    expected = header + int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    if len(data) != expected:
        what = "truncated" if len(data) < expected else "has trailing bytes"
        raise DatasetError(
            f"{source}: IDX data {what}: dimensions {dims} need {expected} bytes, "
            f"file has {len(data)}"
        )
    arr = np.frombuffer(data, dtype=dtype, offset=header).reshape(dims)
    if dtype.itemsize > 1:
        arr = arr.astype(dtype.newbyteorder("="))
    return arr


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file, gzip-compressed or raw, validating magic, dims and length."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise DatasetError(f"cannot read IDX file {p}: {exc.strerror or exc}") from None
    return parse_idx(maybe_gunzip(data, p), p)
