"""One run: seeds derived from (experiment, arm, seed), reproducible results, files written."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys

import numpy as np
import pytest
from harness_util import bench_env

from bench.runner import RunSpec, execute, run_seed
from experiments import get_experiment


def spec(arm="softmax-ce", seed=0, epochs=2) -> RunSpec:
    cfg = get_experiment("ablation").arm(arm).config.replace(dataset="digits", epochs=epochs,
                                                               eval_every=1)
    return RunSpec("ablation", arm, seed, cfg)


# -- run_seed ----------------------------------------------------------------------------------------

def test_run_seed_is_the_same_on_every_call():
    assert run_seed("ablation", "glorot", 3) == run_seed("ablation", "glorot", 3)


def test_run_seed_is_the_same_in_another_process_with_another_hash_salt():
    code = "from bench.runner import run_seed; print(run_seed('ablation', 'glorot', 3))"
    env = {**bench_env(), "PYTHONHASHSEED": "12345"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True).stdout
    assert int(out) == run_seed("ablation", "glorot", 3)


def test_run_seed_differs_across_seeds_arms_and_experiments():
    arms = get_experiment("ablation").arm_names
    seeds = {(arm, s): run_seed("ablation", arm, s) for arm in arms for s in range(5)}
    assert len(set(seeds.values())) == len(seeds)
    assert run_seed("batchnorm", "glorot", 0) != run_seed("ablation", "glorot", 0)


def test_run_seed_is_a_32_bit_unsigned_integer():
    value = run_seed("ablation", "momentum", 0)
    assert isinstance(value, int) and 0 <= value < 2**32


# -- execute -----------------------------------------------------------------------------------------

def test_executing_a_spec_twice_gives_identical_results():
    a, b = execute(spec()), execute(spec())
    strip = lambda h: [{k: v for k, v in r.items() if k != "seconds"} for r in h]  # noqa: E731
    assert strip(a.history) == strip(b.history)
    assert (a.test_loss, a.test_accuracy) == (b.test_loss, b.test_accuracy)


def test_the_arm_name_alone_changes_the_runs_random_streams():
    base = spec()
    renamed = dataclasses.replace(base, arm="softmax-ce-copy")  # same config, other name
    assert execute(base).history[0]["train_loss"] != execute(renamed).history[0]["train_loss"]


def test_history_has_one_record_per_epoch_run_numbered_from_1():
    result = execute(spec(epochs=3))
    assert [r["epoch"] for r in result.history] == list(range(1, result.epochs_run + 1))
    assert 1 <= result.epochs_run <= 3


def test_execute_writes_weights_to_out_dir_and_no_plot_unless_asked(tmp_path):
    result = execute(spec(), str(tmp_path / "run"))
    assert result.weights_path == str(tmp_path / "run" / "weights.npz")
    with np.load(result.weights_path) as weights:
        assert len(weights.files) == 4  # W and b of two dense layers
    assert result.curve_path is None
    assert sorted(os.listdir(tmp_path / "run")) == ["history.csv", "weights.npz"]


def test_execute_with_plot_adds_a_png_learning_curve(tmp_path):
    result = execute(spec(), str(tmp_path / "run"), plot=True)
    with open(result.curve_path, "rb") as fh:
        assert fh.read(8) == b"\x89PNG\r\n\x1a\n"
    assert sorted(os.listdir(tmp_path / "run")) == ["history.csv", "learning_curve.png",
                                                    "weights.npz"]


def test_history_csv_has_every_epoch_field_at_full_precision(tmp_path):
    import pandas as pd
    result = execute(spec(epochs=3), str(tmp_path / "run"))
    got = pd.read_csv(result.history_path)
    assert list(got["epoch"]) == [r["epoch"] for r in result.history]
    for key in ("train_loss", "lr", "seconds", "val_loss", "val_accuracy"):
        want = [r[key] for r in result.history]
        assert got[key].tolist() == pytest.approx(want, rel=0, abs=0, nan_ok=True), key


def test_execute_without_out_dir_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = execute(spec())
    assert result.weights_path is None and result.curve_path is None
    assert list(tmp_path.iterdir()) == []
