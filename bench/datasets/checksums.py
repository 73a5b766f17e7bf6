"""Pinned digests of every raw data file and the check run on each load."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from .errors import DatasetError
from .idx import GZIP_MAGIC, gunzip_bytes


@dataclass(frozen=True)
class FileSpec:
    """One raw file and the digests it is accepted under.

    ``sha256`` / ``md5`` are digests of the file exactly as published (md5 is
    only used when no sha256 is known). ``content_sha256`` is the digest of the
    decompressed payload: it accepts copies that were re-compressed (Debian's
    dataset-fashion-mnist, Keras's mirror) or stored uncompressed.
    """

    filename: str
    sha256: str | None = None
    md5: str | None = None
    content_sha256: str | None = None

    @property
    def plain_name(self) -> str:
        """The file name without ``.gz`` (how torchvision and gunzip store it)."""
        return self.filename[:-3] if self.filename.endswith(".gz") else self.filename

    def expected(self) -> str:
        parts = []
        if self.sha256:
            parts.append(f"sha256 {self.sha256}")
        elif self.md5:
            parts.append(f"md5 {self.md5}")
        if self.content_sha256:
            parts.append(f"decompressed sha256 {self.content_sha256}")
        return " or ".join(parts) or "no digest pinned"


@dataclass(frozen=True)
class VerifiedFile:
    """The bytes of a file that passed its check, ready to parse."""

    path: Path
    sha256: str  # digest of the file as it sits on disk
    payload: bytes  # decompressed content


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


DOWNLOAD_FIX = "delete it and re-run to download again (or replace it with a good copy)"


def read_verified(path: str | os.PathLike, spec: FileSpec, fix: str = DOWNLOAD_FIX) -> VerifiedFile:
    """Read ``path`` and check it against ``spec``; raise DatasetError on mismatch, whose
    message ends with ``fix`` (how to get a good copy of this file).

    The file is read once: its digest is compared first, and only if that
    fails (or no file digest is pinned) is the decompressed content compared.
    """
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise DatasetError(f"cannot read {p}: {exc.strerror or exc}") from None
    digest = sha256_hex(data)
    if spec.sha256 is not None:
        ok = digest == spec.sha256
    elif spec.md5 is not None:
        ok = hashlib.md5(data, usedforsecurity=False).hexdigest() == spec.md5
    else:
        ok = False
    payload = data
    if data[:2] == GZIP_MAGIC:
        try:
            payload = gunzip_bytes(data, p)
        except DatasetError:
            if ok:
                raise
            payload = b""  # damaged: fall through to the checksum message
    if not ok and spec.content_sha256 is not None and payload:
        ok = sha256_hex(payload) == spec.content_sha256
    if not ok:
        raise DatasetError(checksum_message(p, spec, digest, fix))
    return VerifiedFile(path=p, sha256=digest, payload=payload)


def checksum_message(path: Path, spec: FileSpec, actual_sha256: str, fix: str = DOWNLOAD_FIX) -> str:
    return (
        f"checksum mismatch for {path}: expected {spec.expected()}, "
        f"got sha256 {actual_sha256}. The file is truncated or corrupt: {fix}."
    )
