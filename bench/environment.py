"""What produced a result: code version, package versions, BLAS. Logged with every run."""

from __future__ import annotations

import os
import platform
import subprocess
from functools import lru_cache
from importlib import metadata

from . import tags as T

__all__ = ["git_info", "package_versions", "blas_info", "blas_kernel", "environment_tags"]

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _git(*args: str) -> str | None:
    try:
        out = subprocess.run(["git", *args], cwd=_ROOT, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


@lru_cache(maxsize=1)
def git_info() -> dict[str, str]:
    commit = _git("rev-parse", "HEAD")
    if commit is None:
        return {"git_commit": "unknown", "git_dirty": "unknown"}
    dirty = _git("status", "--porcelain", "--untracked-files=no")
    return {"git_commit": commit, "git_dirty": "true" if dirty else "false"}


@lru_cache(maxsize=1)
def package_versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in ("numpy", "scipy", "mlflow", "optuna", "pandas", "bench"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


@lru_cache(maxsize=1)
def blas_info() -> str:
    """One line: library, version, CPU kernel and thread count of each BLAS in use."""
    import numpy  # noqa: F401  (loads the BLAS so threadpoolctl can see it)
    from threadpoolctl import threadpool_info
    parts = []
    for lib in threadpool_info():
        if lib.get("user_api") != "blas":
            continue
        parts.append(f"{lib.get('internal_api')} {lib.get('version')} "
                     f"arch={lib.get('architecture')} threads={lib.get('num_threads')}")
    core = os.environ.get("OPENBLAS_CORETYPE")
    if core:
        parts.append(f"OPENBLAS_CORETYPE={core}")
    return "; ".join(parts) or "unknown"


def blas_kernel() -> str:
    """The BLAS library, version and CPU kernel this process computes with, e.g.
    ``openblas 0.3.31 Haswell``: the digits of a run depend on it (OpenBLAS picks its kernel
    per CPU unless ``OPENBLAS_CORETYPE`` forces one), so every run records it."""
    import numpy  # noqa: F401  (loads the BLAS so threadpoolctl can see it)
    from threadpoolctl import threadpool_info
    libs = [lib for lib in threadpool_info() if lib.get("user_api") == "blas"]
    # numpy's own BLAS does the network's products; scipy's (loaded or not) does none of them.
    own = [lib for lib in libs if "numpy" in str(lib.get("filepath", ""))] or libs
    kernels = sorted({f"{lib.get('internal_api')} {lib.get('version')} {lib.get('architecture')}"
                      for lib in own})
    return "; ".join(kernels) or "unknown"


def environment_tags() -> dict[str, str]:
    tags = {f"{T.PREFIX}{k}": v for k, v in git_info().items()}
    tags.update({f"{T.VERSION}{k}": v for k, v in package_versions().items()})
    tags[T.BLAS] = blas_info()
    tags[T.MACHINE] = f"{platform.machine()} {os.cpu_count()} cpus {platform.system()}"
    return tags
