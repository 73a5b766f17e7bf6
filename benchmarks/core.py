"""nn_core's training epoch against its matrix-product floor, measured side by side.

The network is the project's reference MLP: 784 -> Dense(89) -> tanh -> Dense(10), softmax
cross-entropy from logits, SGD with momentum 0.9 at lr 0.1, float32, on random data shaped
like MNIST. Epoch and floor are timed alternately in the same process under the same BLAS
thread setting, so machine noise hits both alike; each figure is the median of the repeats.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import asdict, dataclass, field

import numpy as np

import nn_core as nc

from .floor import FloorWorkspace, floor_epoch
from .machine import blas_info, blas_limits

__all__ = ["INPUT_DIM", "HIDDEN", "CLASSES", "TARGETS", "make_data", "make_trainer",
           "nn_core_epoch", "Comparison", "compare"]

INPUT_DIM, HIDDEN, CLASSES = 784, 89, 10
LAYERS = [f"dense:{HIDDEN}", "tanh", f"dense:{CLASSES}"]
# The ratio epoch / floor that nn_core aims for, by batch size.
TARGETS = {64: 1.4, 1024: 1.2}


def make_data(n: int = 60_000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` random MNIST-shaped samples: float32 pixels in [0, 1) and int64 labels 0..9."""
    rng = np.random.default_rng(seed)
    return rng.random((n, INPUT_DIM), dtype=np.float32), rng.integers(0, CLASSES, n)


def make_trainer(batch: int, seed: int = 0) -> nc.Trainer:
    net = nc.Sequential(LAYERS, input_dim=INPUT_DIM, seed=seed, dtype="float32")
    opt = nc.SGD(net.parameters(), lr=0.1, momentum=0.9)
    return nc.Trainer(net, nc.SoftmaxCrossEntropy(), opt, batch_size=batch, epochs=1, seed=seed)


def nn_core_epoch(x: np.ndarray, y: np.ndarray, batch: int) -> tuple[float, float]:
    """Wall and CPU seconds for one ``Trainer.fit`` epoch of a fresh network (built outside
    the timing, so every repeat does the same work and never trains on from a diverged
    state)."""
    trainer = make_trainer(batch)
    started, cpu = time.perf_counter(), time.process_time()
    history = trainer.fit(x, y)
    seconds = time.perf_counter() - started, time.process_time() - cpu
    if history.diverged:  # an early return would make the epoch look fast
        raise RuntimeError(f"the benchmark network diverged: {history.stop_reason}")
    return seconds


@dataclass
class Comparison:
    batch: int
    threads: int | None                 # BLAS thread limit; None = the library's default
    samples: int
    epoch_s: list[float] = field(default_factory=list)      # wall-clock seconds
    floor_s: list[float] = field(default_factory=list)
    # CPU seconds of this process: on a shared machine, time spent waiting for a core counts
    # in wall time but not here. With one BLAS thread it measures the same work as wall time.
    epoch_cpu_s: list[float] = field(default_factory=list)
    floor_cpu_s: list[float] = field(default_factory=list)
    blas: list[dict] = field(default_factory=list)

    @property
    def epoch(self) -> float:
        return statistics.median(self.epoch_s)

    @property
    def floor(self) -> float:
        return statistics.median(self.floor_s)

    @property
    def ratio(self) -> float:
        return self.epoch / self.floor

    @property
    def best_ratio(self) -> float:
        """min / min: the ratio least disturbed by other processes (noise only adds time)."""
        return min(self.epoch_s) / min(self.floor_s)

    @property
    def cpu_ratio(self) -> float:
        return statistics.median(self.epoch_cpu_s) / statistics.median(self.floor_cpu_s)

    @property
    def target(self) -> float | None:
        return TARGETS.get(self.batch)

    def record(self) -> dict:
        out = asdict(self)
        out.update(epoch_median_s=self.epoch, floor_median_s=self.floor, ratio=self.ratio,
                   best_ratio=self.best_ratio, cpu_ratio=self.cpu_ratio, target=self.target,
                   meets_target=None if self.target is None else self.ratio <= self.target)
        return out


def compare(x: np.ndarray, y: np.ndarray, batch: int, threads: int | None = 1,
            repeats: int = 5, warmup: int = 1) -> Comparison:
    """Time ``repeats`` nn_core epochs and floor epochs, interleaved, under one BLAS setting."""
    result = Comparison(batch=batch, threads=threads, samples=x.shape[0])
    ws = FloorWorkspace(INPUT_DIM, HIDDEN, CLASSES, min(batch, x.shape[0]))
    with blas_limits(threads):
        result.blas = blas_info()
        for i in range(warmup + repeats):
            # Alternate which goes first, so neither always runs right after the other.
            if i % 2:
                e, f = nn_core_epoch(x, y, batch), floor_epoch(x, ws)
            else:
                f, e = floor_epoch(x, ws), nn_core_epoch(x, y, batch)
            if i >= warmup:
                result.epoch_s.append(e[0])
                result.floor_s.append(f[0])
                result.epoch_cpu_s.append(e[1])
                result.floor_cpu_s.append(f[1])
    return result
