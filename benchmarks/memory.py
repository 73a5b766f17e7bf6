"""Peak memory of a harness run on MNIST-sized data, in a fresh interpreter.

The child process builds a data set laid out as ``--dataset mnist`` gives it (the 60,000
training images split 50,000 train / 10,000 validation, plus 10,000 test; float32, 784
features; random values, which cost the same memory), then runs ``bench.runner.execute``
on it -- training, validation checks, test evaluation, weights and the learning-curve plot --
exactly as a worker does. It reports:

* ``peak_rss_mb``: the process's peak resident set (``VmHWM``), interpreter and libraries
  included;
* ``rss_before_data_mb``: resident set after the imports, before the data;
* ``data_mb``: the data set's own bytes;
* ``traced_peak_above_data_mb`` (second child, under ``tracemalloc``, which sees numpy's
  allocations): the largest amount of memory the run allocated on top of the data at
  any moment. Below ``data_mb`` means the data was never copied whole.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile

__all__ = ["measure_memory"]

MB = 1024 * 1024
SPLITS = {"train": 50_000, "val": 10_000, "test": 10_000}


def _status_mb(field: str) -> float:
    """``VmRSS`` (resident now) or ``VmHWM`` (peak) of this process's memory map. Unlike
    ``ru_maxrss``, which keeps the high-water mark of the forked parent's pages across
    ``exec``, these start afresh in the new interpreter."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _dataset(splits: dict[str, int], seed: int = 0):
    import numpy as np

    from bench.datasets import Dataset
    rng = np.random.default_rng(seed)
    arrays = {}
    for split, n in splits.items():
        arrays[f"x_{split}"] = rng.random((n, 784), dtype=np.float32)
        arrays[f"y_{split}"] = rng.integers(0, 10, n)
    fingerprint = {"name": "perf-memory", **{f"n_{k}": v for k, v in splits.items()}}
    return Dataset(name="perf-memory", n_classes=10, input_shape=(784,), fingerprint=fingerprint,
                   description="random MNIST-shaped data", **arrays)


def _child(traced: bool, epochs: int, splits: dict[str, int]) -> dict:
    import tracemalloc

    from threadpoolctl import threadpool_limits

    from bench import runner
    from experiments import get_experiment
    before = _status_mb("VmRSS")
    if traced:
        tracemalloc.start()
    data = _dataset(splits)
    data_bytes = sum(getattr(data, f"{k}_{s}").nbytes for k in "xy" for s in splits)
    if traced:
        tracemalloc.reset_peak()
        traced_base = tracemalloc.get_traced_memory()[0]
    runner.load_data = lambda *args, **kwargs: data  # what load_data returns for mnist
    arm = get_experiment("ablation").arm("momentum")
    config = arm.config.replace(epochs=epochs, eval_every=1)
    spec = runner.RunSpec("ablation", arm.name, 0, config)
    with tempfile.TemporaryDirectory() as out, threadpool_limits(1, "blas"):
        result = runner.execute(spec, out)
    out = {"rss_before_data_mb": before, "data_mb": data_bytes / MB,
           "epochs_run": result.epochs_run, "train_rows": splits["train"],
           "peak_rss_mb": _status_mb("VmHWM"),
           "ru_maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    if traced:
        current, peak = tracemalloc.get_traced_memory()
        out.update(traced_peak_above_data_mb=(peak - traced_base) / MB,
                   traced_end_above_data_mb=(current - traced_base) / MB)
    return out


def measure_memory(epochs: int = 2, splits: dict[str, int] | None = None) -> dict:
    """Two fresh interpreters: peak RSS, then tracemalloc's peak (see module docstring)."""
    splits = splits or SPLITS
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [
        root, os.environ.get("PYTHONPATH")]))}
    out: dict = {}
    for traced in (True, False):  # the untraced child's RSS figures are the ones kept
        proc = subprocess.run([sys.executable, "-m", "benchmarks.memory", json.dumps(
            {"traced": traced, "epochs": epochs, "splits": splits})],
            capture_output=True, text=True, env=env, check=False)
        if proc.returncode:
            raise RuntimeError(f"memory child failed: {proc.stderr[-2000:]}")
        out.update(json.loads(proc.stdout.strip().splitlines()[-1]))
    out["peak_above_data_mb"] = out["peak_rss_mb"] - out["data_mb"]
    out["target_mb"] = 600
    return out


if __name__ == "__main__":
    args = json.loads(sys.argv[1])
    print(json.dumps(_child(args["traced"], args["epochs"], args["splits"])))
