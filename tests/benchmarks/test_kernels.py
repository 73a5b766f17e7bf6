"""``--kernels both``: each kernel's child gets its own OPENBLAS_CORETYPE; this process's
environment never changes, and every per-kernel target names the kernel it was measured on."""

import os

from benchmarks.kernels import KERNELS, child_env
from benchmarks.targets import evaluate


def test_child_environments_set_or_remove_the_kernel_and_leave_ours_alone():
    ours = dict(os.environ)
    envs = {label: child_env(coretype) for label, coretype in KERNELS.items()}
    assert envs["Haswell"]["OPENBLAS_CORETYPE"] == "Haswell"
    assert "OPENBLAS_CORETYPE" not in envs["auto"]
    assert dict(os.environ) == ours


def _core_rows(ratio):
    return [{"batch": 64, "target": 1.4, "cpu_ratio": ratio, "ratio": ratio,
             "floor_cpu_s": [1.0], "samples": 640}]


def test_per_kernel_targets_are_named_with_the_kernel_the_child_loaded():
    blas = [{"architecture": "Haswell"}]
    record = {"machine": {"cpus": 2}, "sections": {}, "kernels": {
        "Haswell": {"coretype": "Haswell", "blas_1_thread": blas,
                    "sections": {"core": {"rows": _core_rows(1.3), "budget": []}}},
        "auto": {"coretype": None, "blas_1_thread": [{"architecture": "SkylakeX"}],
                 "sections": {"core": {"rows": _core_rows(1.5), "budget": []}}},
        "broken": {"coretype": "X", "returncode": -4}}}
    targets = evaluate(record)
    assert [(t["what"], t["met"]) for t in targets] == [
        ("nn_core epoch / floor, batch 64 [Haswell kernel (OPENBLAS_CORETYPE=Haswell)]", True),
        ("nn_core epoch / floor, batch 64 [SkylakeX kernel (OPENBLAS_CORETYPE=unset)]", False)]
