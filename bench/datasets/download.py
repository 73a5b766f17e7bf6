"""One-time downloads: mirrors in order, streamed to a temp file, verified,
then moved into place atomically so no partial file is ever left behind."""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import os
import re
import tempfile
import urllib.error
import urllib.request
from pathlib import Path
from typing import Iterator, Sequence

from ..files import publish_file
from .checksums import FileSpec, read_verified
from .errors import DatasetError

DEFAULT_TIMEOUT = 10.0  # seconds per connect/read: fail fast when offline
_CHUNK = 1 << 16


class DownloadError(DatasetError):
    """Every mirror failed for one file; ``attempts`` holds (url, reason) pairs."""

    def __init__(self, message: str, attempts: list[tuple[str, str]]):
        super().__init__(message)
        self.attempts = attempts


def mirrors_env_var(name: str) -> str:
    """``BENCH_<NAME>_MIRRORS``, e.g. BENCH_MNIST_MIRRORS, BENCH_FASHION_MNIST_MIRRORS."""
    return "BENCH_" + re.sub(r"[^A-Z0-9]+", "_", name.upper()) + "_MIRRORS"


def resolve_mirrors(name: str, default: Sequence[str],
                    override: Sequence[str] | str | None = None) -> list[str]:
    """Mirror base URLs: explicit override, else the env var, else ``default``."""
    if override is None:
        override = os.environ.get(mirrors_env_var(name)) or None
    if override is None:
        return list(default)
    if isinstance(override, str):
        override = re.split(r"[\s,]+", override.strip())
    if not all(isinstance(u, str) for u in override):
        raise DatasetError(f"mirrors must be base URLs (strings), got {override!r}")
    urls = [u for u in override if u]
    if not urls:
        raise DatasetError(f"mirror list for {name!r} is empty")
    return urls


def _url(base: str, filename: str) -> str:
    return base if base.endswith(filename) else base.rstrip("/") + "/" + filename


@contextlib.contextmanager
def _progress_bar(enabled: bool, label: str, total: int | None) -> Iterator:
    """Yield an ``advance(n)`` callable; a rich bar on stderr when enabled."""
    if not enabled:
        yield lambda n: None
        return
    from rich.console import Console
    from rich.progress import (BarColumn, DownloadColumn, Progress,
                               TextColumn, TransferSpeedColumn)

    with Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
                  TransferSpeedColumn(), console=Console(stderr=True),
                  transient=False) as bar:
        task = bar.add_task(label, total=total)
        yield lambda n: bar.advance(task, n)


def _fetch(url: str, dest: Path, spec: FileSpec, timeout: float, progress: bool) -> None:
    """Fetch one URL into ``dest``; raises on any failure, leaving nothing behind."""
    req = urllib.request.Request(url, headers={"User-Agent": "bench-datasets/0.1"})
    fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(req, timeout=timeout) as resp:
            length = resp.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
            received = 0
            digest = hashlib.sha256()
            with _progress_bar(progress, spec.filename, total) as advance:
                while chunk := resp.read(_CHUNK):
                    out.write(chunk)
                    digest.update(chunk)
                    received += len(chunk)
                    advance(len(chunk))
            if total is not None and received != total:
                raise DatasetError(f"truncated download: got {received} of {total} bytes")
        try:
            read_verified(tmp, spec)  # checksum (and gzip integrity) before it counts
        except DatasetError:
            raise DatasetError(
                f"checksum mismatch: expected {spec.expected()}, "
                f"got sha256 {digest.hexdigest()} ({received} bytes)"
            ) from None
        publish_file(str(tmp), str(dest))  # 0644 under umask 022, not mkstemp's 0600
    finally:
        tmp.unlink(missing_ok=True)


def download_file(spec: FileSpec, dest_dir: Path, mirrors: Sequence[str], *,
                  timeout: float = DEFAULT_TIMEOUT, progress: bool = True) -> Path:
    """Download ``spec`` from the first mirror that serves a verified copy."""
    dest_dir.mkdir(parents=True, exist_ok=True)
    dest = dest_dir / spec.filename
    attempts: list[tuple[str, str]] = []
    for base in mirrors:
        url = _url(base, spec.filename)
        try:
            _fetch(url, dest, spec, timeout, progress)
            return dest
        except urllib.error.HTTPError as exc:
            attempts.append((url, f"HTTP {exc.code} {exc.reason}"))
        except urllib.error.URLError as exc:
            attempts.append((url, f"cannot connect ({exc.reason})"))
        except (OSError, http.client.HTTPException) as exc:
            attempts.append((url, f"{type(exc).__name__}: {exc}"))
        except DatasetError as exc:
            attempts.append((url, str(exc)))
    lines = "\n".join(f"  {u}: {why}" for u, why in attempts)
    raise DownloadError(f"could not download {spec.filename} from any mirror:\n{lines}", attempts)
