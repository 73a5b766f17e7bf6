"""Fixtures for bench.datasets tests: an isolated environment (no real caches,
no internet), IDX file writers, and a counting HTTP server on 127.0.0.1."""

from __future__ import annotations

import gzip
import hashlib
import http.server
import io
import socket
import struct
import threading
from collections import Counter, defaultdict, deque
from pathlib import Path

import numpy as np
import pytest

from bench.datasets import FileSpec, IdxSource, SOURCES
from bench.datasets import locate

REPO = Path(__file__).resolve().parents[3]
SHARED_T10K = REPO.parent / "shared" / "data" / "mnist-t10k"


def closed_port_url() -> str:
    """A URL on 127.0.0.1 where nothing listens: connecting fails at once."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


@pytest.fixture(autouse=True)
def isolated_env(tmp_path, monkeypatch):
    """Point every cache at tmp_path and every mirror at a closed local port,
    so no test reads the developer's caches or reaches the network."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.setenv("KERAS_HOME", str(home / ".keras"))
    monkeypatch.delenv("BENCH_DATA_DIR", raising=False)
    dead = closed_port_url()
    monkeypatch.setenv("BENCH_MNIST_MIRRORS", dead)
    monkeypatch.setenv("BENCH_FASHION_MNIST_MIRRORS", dead)
    monkeypatch.setattr(locate, "SYSTEM_DIRS", {})
    return home


def idx_bytes(arr: np.ndarray) -> bytes:
    """Encode a uint8 array in IDX format (type code 0x08)."""
    arr = np.ascontiguousarray(arr, dtype=np.uint8)
    header = bytes([0, 0, 0x08, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape)
    return header + arr.tobytes()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class TinyMnist:
    """Small random MNIST-shaped data (60 train / 20 test) as IDX .gz bytes."""

    names = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
             "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")

    def __init__(self, seed: int = 7):
        rng = np.random.default_rng(seed)
        self.x_train = rng.integers(0, 256, (60, 28, 28), dtype=np.uint8)
        self.y_train = np.arange(60, dtype=np.uint8) % 10
        self.x_test = rng.integers(0, 256, (20, 28, 28), dtype=np.uint8)
        self.y_test = np.arange(20, dtype=np.uint8) % 10
        arrays = (self.x_train, self.y_train, self.x_test, self.y_test)
        self.raw = {n: idx_bytes(a) for n, a in zip(self.names, arrays)}
        self.gz = {n: gzip.compress(b, mtime=0) for n, b in self.raw.items()}
        buf = io.BytesIO()
        np.savez(buf, x_train=self.x_train, y_train=self.y_train,
                 x_test=self.x_test, y_test=self.y_test)
        self.npz = buf.getvalue()

    def specs(self) -> list[FileSpec]:
        return [FileSpec(n, sha256=sha256(self.gz[n]), content_sha256=sha256(self.raw[n]))
                for n in self.names]

    def source(self, mirrors=()) -> IdxSource:
        a, b, c, d = self.specs()
        return IdxSource(name="mnist", title="MNIST", train_images=a, train_labels=b,
                         test_images=c, test_labels=d, mirrors=tuple(mirrors),
                         npz=FileSpec("mnist.npz", sha256=sha256(self.npz)))

    def write(self, directory: Path, names=None) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        for n in names or self.names:
            (directory / n).write_bytes(self.gz[n])
        return directory


@pytest.fixture
def idx_encode():
    """The IDX encoder, as a fixture so test modules need not import conftest."""
    return idx_bytes


@pytest.fixture
def dead_url():
    return closed_port_url()


@pytest.fixture
def t10k_dir():
    """The real MNIST t10k files shipped in <repo>/../shared/data/mnist-t10k."""
    if not (SHARED_T10K / "t10k-images-idx3-ubyte.gz").is_file():
        pytest.skip(f"real MNIST t10k files not present at {SHARED_T10K}")
    return SHARED_T10K


@pytest.fixture
def tiny():
    return TinyMnist()


@pytest.fixture
def tiny_mnist(tiny, monkeypatch):
    """Registers the tiny data as "mnist" (checksums included) and returns it."""
    monkeypatch.setitem(SOURCES, "mnist", tiny.source())
    return tiny


class FileServer:
    """Serves bytes by name, counts requests, and can misbehave on demand."""

    def __init__(self):
        self.files: dict[str, bytes] = {}
        self.requests: Counter = Counter()
        self.faults: dict[str, deque] = defaultdict(deque)
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server naming)
                name = self.path.lstrip("/")
                server.requests[name] += 1
                body = server.files.get(name)
                fault = server.faults[name].popleft() if server.faults[name] else None
                if body is None or fault == "500":
                    self.send_error(404 if body is None else 500)
                    return
                if fault == "garbage":
                    body = bytes(len(body))
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                # "truncate": promise the full length, send half, hang up.
                self.wfile.write(body[: len(body) // 2] if fault == "truncate" else body)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.02,), daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/"

    def fail(self, name: str, *modes: str) -> None:
        self.faults[name].extend(modes)

    @property
    def total(self) -> int:
        return sum(self.requests.values())


@pytest.fixture
def server(tiny):
    srv = FileServer()
    srv.files.update(tiny.gz)
    srv.thread.start()
    yield srv
    srv.httpd.shutdown()
    srv.httpd.server_close()
