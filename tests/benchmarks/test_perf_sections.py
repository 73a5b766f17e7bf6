"""Peers' equal-start losses, the memory probe and the `python -m benchmarks all` command."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from benchmarks.memory import measure_memory
from benchmarks.peerloss import cross_entropy, equal_start_losses

ROOT = Path(__file__).resolve().parents[2]


def test_peers_reach_the_same_loss_from_the_same_start():
    from bench.runner import load_data
    d = load_data("mnist-5k", 0, "global", None, "float32")
    x, y = d.x_train[:1024], d.y_train[:1024]
    out = equal_start_losses(x, y, 64)
    base = out["nn_core"]["final_loss"]
    assert base < out["initial_loss"]  # it learned something
    assert out["scikit-learn"]["final_loss"] == pytest.approx(base, rel=1e-5)
    if "skipped" not in out["torch"]:
        assert out["torch"]["final_loss"] == pytest.approx(base, rel=1e-3)


def test_cross_entropy_of_uniform_outputs_is_log_classes():
    x = np.zeros((5, 3), np.float32)
    zeros = [np.zeros((3, 4)), np.zeros(4), np.zeros((4, 10)), np.zeros(10)]
    assert cross_entropy(x, np.arange(5), *zeros) == pytest.approx(np.log(10))


def test_memory_probe_reports_a_fresh_interpreter():
    m = measure_memory(epochs=1, splits={"train": 2000, "val": 500, "test": 500})
    assert m["data_mb"] == pytest.approx(3000 * (784 * 4 + 8) / 2**20)
    assert m["rss_before_data_mb"] < m["peak_rss_mb"] < 1000
    assert 0 < m["traced_peak_above_data_mb"] < 200
    assert m["peak_above_data_mb"] == pytest.approx(m["peak_rss_mb"] - m["data_mb"])


def test_benchmarks_all_writes_markdown_and_json(tmp_path):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [
        str(ROOT), os.environ.get("PYTHONPATH")]))}
    proc = subprocess.run([sys.executable, "-m", "benchmarks", "all", "--quick", "--sections",
                           "core", "--results-dir", str(tmp_path)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    record = json.loads((tmp_path / "perf.json").read_text())
    assert record["blas_1_thread"][0]["num_threads"] == 1
    assert record["machine"]["numpy"] == np.__version__
    assert [r["batch"] for r in record["sections"]["core"]["rows"]] == [64, 1024]
    md = (tmp_path / "perf.md").read_text()
    assert "## Targets" in md and "BLAS at 1 thread" in md and "## 1. nn_core epoch" in md


def test_benchmarks_all_rejects_an_unknown_section(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-m", "benchmarks", "all", "--sections", "nope",
                           "--results-dir", str(tmp_path)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 2 and "unknown perf section" in proc.stderr


def test_missed_targets_say_what_limits_them():
    from benchmarks.targets import evaluate
    core = [{"batch": 64, "samples": 6400, "target": 1.4, "ratio": 1.8, "cpu_ratio": 1.8,
             "floor_cpu_s": [0.03, 0.03]},
            {"batch": 1024, "samples": 6400, "target": 1.2, "ratio": 1.1, "cpu_ratio": 1.1,
             "floor_cpu_s": [0.03]}]
    budget = [{"batch": 64, "pieces": {"optimizer step": {"overhead_s": 0.01, "floor_s": 0.0},
                                       "dense1 forward": {"overhead_s": 0.0, "floor_s": 0.02}}}]
    peers = {"samples": 6400, "batch": 64, "nn_core_s": 0.06, "nn_core_cpu_s": 0.054,
             "peers": {"torch": {"median_s": 0.2, "cpu_median_s": 0.2},
                       "scikit-learn": {"median_s": 0.09, "cpu_median_s": 0.09},
                       "jax": {"skipped": "not importable"}}}
    record = {"machine": {"cpus": 2}, "sections": {
        "core": {"rows": core, "budget": budget}, "peers": {"timing": peers},
        "memory": {"peak_above_data_mb": 700, "target_mb": 600, "peak_rss_mb": 900,
                   "data_mb": 200, "traced_peak_above_data_mb": 650}}}
    targets = {t["what"]: t for t in evaluate(record)}
    assert not targets["nn_core epoch / floor, batch 64"]["met"]
    assert "optimizer step 10 ms" in targets["nn_core epoch / floor, batch 64"]["limit"]
    assert targets["nn_core epoch / floor, batch 1024"]["met"]
    assert targets["torch epoch / nn_core epoch (batch 64)"]["met"]
    sk = targets["scikit-learn epoch / nn_core epoch (batch 64)"]
    assert not sk["met"] and "900 us CPU per step, nn_core 540 us" in sk["limit"]
    assert "1.80x its matrix-product floor (300 us)" in sk["limit"]
    assert not targets["peak memory above the data (MNIST-sized run)"]["met"]
    assert all(t["met"] or t["limit"] for t in targets.values())


def test_benchmarks_harness_command_prints_its_sections_and_writes_only_with_out(tmp_path):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [
        str(ROOT), os.environ.get("PYTHONPATH")]))}
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "benchmarks", "harness", "--quick", "--out",
                           str(out)], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "## 3. Tracking overhead on the default ablation" in proc.stdout
    assert "not judged" in proc.stdout  # --quick does not measure the default ablation
    record = json.loads((out / "perf.json").read_text())
    assert list(record["sections"]) == ["harness"]
    assert record["sections"]["harness"]["ablation"]["default"] is False
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # nothing else written
