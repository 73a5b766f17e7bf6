"""What a timing was measured on: CPU, load, numpy and the BLAS with its thread count.

A figure without this is not comparable with another one: the same epoch can be several
times slower with a different BLAS or thread setting, or on a busy machine.
"""

from __future__ import annotations

import os
import platform

import numpy as np

__all__ = ["blas_limits", "blas_info", "machine_info", "torch_threads"]


def blas_limits(threads: int | None):
    """A context limiting the BLAS to ``threads`` threads (``None``: the library's default).

    threadpoolctl is a benchmark-side dependency only (it comes with scikit-learn); nn_core
    itself never sets BLAS threads.
    """
    from threadpoolctl import threadpool_limits
    return threadpool_limits(limits=threads, user_api="blas")


class torch_threads:
    """A context setting PyTorch's intra-op threads to ``n``, if torch is installed."""

    def __init__(self, n):
        self.n, self.saved = n, None

    def __enter__(self):
        try:
            import torch
        except ImportError:
            return self
        self.saved = torch.get_num_threads()
        torch.set_num_threads(self.n)
        return self

    def __exit__(self, *exc):
        if self.saved is not None:
            import torch
            torch.set_num_threads(self.saved)


def blas_info() -> list[dict]:
    """The BLAS libraries loaded in this process as threadpoolctl sees them *now* (so call it
    inside a ``blas_limits`` block to record the thread count in force)."""
    from threadpoolctl import threadpool_info
    keep = ("internal_api", "version", "num_threads", "threading_layer", "architecture",
            "prefix", "filepath")
    return [{k: lib.get(k) for k in keep} for lib in threadpool_info() if lib["user_api"] == "blas"]


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine_info() -> dict:
    """Host, CPU, load, Python/numpy versions and the BLAS environment variables."""
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    return {
        "host": platform.node(),
        "platform": platform.platform(),
        "cpu": _cpu_model(),
        "cpus": os.cpu_count(),
        "loadavg_1_5_15": list(load) if load else None,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "env": {k: os.environ.get(k) for k in
                ("OPENBLAS_CORETYPE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")},
    }
