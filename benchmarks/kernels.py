"""``--kernels both``: the single-threaded sections once per OpenBLAS kernel.

OpenBLAS picks its kernels when it is loaded, from ``OPENBLAS_CORETYPE`` or, unset, from the
CPU; a process cannot switch afterwards. So each kernel's figures are measured by a fresh
child (``python -m benchmarks all --sections ...``) whose environment alone has the variable
set to ``Haswell`` or removed; this process's environment is never changed. Each child's
record carries the BLAS it actually loaded (threadpoolctl's ``architecture``), so every
figure is stored with its kernel. A child that dies (for instance a forced kernel the CPU
cannot run, SIGILL) is recorded with its exit status instead of figures.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time

__all__ = ["KERNELS", "per_kernel", "child_env"]

# label -> OPENBLAS_CORETYPE for the child (None: removed, the BLAS picks from the CPU)
KERNELS = {"Haswell": "Haswell", "auto": None}


def child_env(coretype: str | None) -> dict:
    env = dict(os.environ)
    env.pop("OPENBLAS_CORETYPE", None)
    if coretype is not None:
        env["OPENBLAS_CORETYPE"] = coretype
    return env


def _argv(sections: list[str], s: dict, out_dir: str) -> list[str]:
    argv = [sys.executable, "-m", "benchmarks", "all", "--sections", ",".join(sections),
            "--results-dir", out_dir, "--kernels", "env"]
    if s.get("quick"):
        return argv + ["--quick"]
    return argv + ["--samples", str(s["samples"]), "--repeats", str(s["repeats"])]


def per_kernel(sections: list[str], s: dict, log=print) -> dict:
    """``{label: {coretype, returncode, seconds, blas_1_thread, env, sections}}``."""
    out = {}
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    for label, coretype in KERNELS.items():
        log(f"kernel {label} (OPENBLAS_CORETYPE={coretype or 'unset'}): "
            f"{','.join(sections)} in a child process ...")
        with tempfile.TemporaryDirectory(prefix="perf-kernel-") as tmp:
            started = time.perf_counter()
            proc = subprocess.run(_argv(sections, s, tmp), env=child_env(coretype), cwd=root)
            entry = {"coretype": coretype, "returncode": proc.returncode,
                     "seconds": time.perf_counter() - started}
            path = os.path.join(tmp, "perf.json")
            if proc.returncode == 0 and os.path.exists(path):
                with open(path) as fh:
                    child = json.load(fh)
                entry.update(blas_1_thread=child["blas_1_thread"], env=child["machine"]["env"],
                             load=child["machine"]["loadavg_1_5_15"],
                             sections=child["sections"])
        out[label] = entry
    return out
