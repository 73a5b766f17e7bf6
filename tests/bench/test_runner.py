"""One run: seeds derived from (experiment, seed) and shared by the arms, reproducible results,
files written."""

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


def test_run_seed_is_shared_by_every_arm_and_differs_across_seeds_and_experiments():
    arms = get_experiment("ablation").arm_names
    for s in range(5):
        assert len({run_seed("ablation", arm, s) for arm in arms}) == 1
    assert len({run_seed("ablation", "glorot", s) for s in range(5)}) == 5
    assert run_seed("batchnorm", "glorot", 0) != run_seed("ablation", "glorot", 0)


def test_search_trial_streams_are_the_arms_own_and_apart_from_the_seed_streams():
    trial = {arm: run_seed("ablation", arm, 0, stream="trial") for arm in ("momentum", "glorot")}
    assert trial["momentum"] != trial["glorot"]
    assert run_seed("ablation", "momentum", 0) not in trial.values()


def test_run_seed_is_a_32_bit_unsigned_integer():
    value = run_seed("ablation", "momentum", 0)
    assert isinstance(value, int) and 0 <= value < 2**32


# -- execute -----------------------------------------------------------------------------------------

def test_executing_a_spec_twice_gives_identical_results():
    a, b = execute(spec()), execute(spec())
    strip = lambda h: [{k: v for k, v in r.items() if k != "seconds"} for r in h]  # noqa: E731
    assert strip(a.history) == strip(b.history)
    assert (a.test_loss, a.test_accuracy) == (b.test_loss, b.test_accuracy)


def test_the_arm_name_alone_does_not_change_the_runs_random_streams():
    base = spec()
    renamed = dataclasses.replace(base, arm="softmax-ce-copy")  # same config, other name
    a, b = execute(base), execute(renamed)
    strip = lambda h: [{k: v for k, v in r.items() if k != "seconds"} for r in h]  # noqa: E731
    assert strip(a.history) == strip(b.history)
    assert (a.test_loss, a.test_accuracy) == (b.test_loss, b.test_accuracy)


def _initial_and_order(arm, seed=0):
    """The weights an arm's run starts from and its first epoch's batch order."""
    from bench.runner import load_data
    from nn_core import Trainer
    s = spec(arm, seed)
    cfg = s.config
    data = load_data(cfg.dataset, 0, cfg.standardize, None, cfg.dtype)
    network, loss, opt, _ = cfg.build(data.n_features, data.n_classes,
                                      run_seed(s.experiment, s.arm, s.seed))
    trainer = Trainer(network, loss, opt, seed=run_seed(s.experiment, s.arm, s.seed))
    return network.state_dict(), trainer._shuffle_rng.permutation(len(data.y_train))


def test_arms_differing_only_in_momentum_share_initial_weights_and_batch_order():
    (w_a, order_a), (w_b, order_b) = _initial_and_order("softmax-ce"), _initial_and_order("momentum")
    assert w_a.keys() == w_b.keys()
    assert all(np.array_equal(w_a[k], w_b[k]) for k in w_a)
    assert np.array_equal(order_a, order_b)


def test_glorot_arm_starts_from_the_unit_normal_arms_draws_times_glorot_std():
    (unit, _), (glorot, _) = _initial_and_order("exp-decay"), _initial_and_order("glorot")
    for key, (fan_in, fan_out) in (("0.W", (64, 89)), ("2.W", (89, 10))):
        std = np.sqrt(2.0 / (fan_in + fan_out))
        np.testing.assert_allclose(glorot[key], (unit[key].astype(np.float64) * std),
                                   rtol=1e-6, atol=1e-7)


def test_two_seeds_of_one_arm_start_differently_and_shuffle_differently():
    (w0, o0), (w1, o1) = _initial_and_order("momentum", 0), _initial_and_order("momentum", 1)
    assert not np.array_equal(w0["0.W"], w1["0.W"])
    assert not np.array_equal(o0, o1)


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
    assert sorted(os.listdir(tmp_path / "run")) == ["config.toml", "history.csv", "weights.npz"]


def test_execute_with_plot_adds_a_png_learning_curve(tmp_path):
    result = execute(spec(), str(tmp_path / "run"), plot=True)
    with open(result.curve_path, "rb") as fh:
        assert fh.read(8) == b"\x89PNG\r\n\x1a\n"
    assert sorted(os.listdir(tmp_path / "run")) == ["config.toml", "history.csv",
                                                    "learning_curve.png", "weights.npz"]


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
