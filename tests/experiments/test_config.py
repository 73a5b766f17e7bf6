"""RunConfig: validation on construction, replace(), layer specs, params, building."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from experiments import RunConfig
from nn_core import Dense
from nn_core.network import Sequential

# field=value -> text the error must contain besides the field name (the bad value)
BAD = [
    ({"hidden": (89, 0)}, "hidden[1]", "0"),
    ({"hidden": (89, 2.5)}, "hidden[1]", "2.5"),
    ({"hidden": 89}, "hidden", "89"),
    ({"activation": "swish"}, "activation", "'swish'"),
    ({"output_activation": "softmaxx"}, "output_activation", "'softmaxx'"),
    ({"keep_prob": 0.0}, "keep_prob", "0.0"),
    ({"keep_prob": 1.5}, "keep_prob", "1.5"),
    ({"init": "xavier"}, "init", "'xavier'"),
    ({"init": "normal", "weight_scale": -0.1}, "weight_scale", "-0.1"),
    ({"init": "glorot_normal", "weight_scale": 0.1}, "weight_scale", "glorot_normal"),
    ({"loss": "hinge"}, "loss", "'hinge'"),
    ({"optimizer": "lbfgs"}, "optimizer", "'lbfgs'"),
    ({"lr": 0}, "lr", "0"),
    ({"lr": -0.5}, "lr", "-0.5"),
    ({"lr": math.nan}, "lr", "nan"),
    ({"momentum": 1.0}, "momentum", "1.0"),
    ({"optimizer": "adam", "momentum": 0.9}, "momentum", "adam"),
    ({"nesterov": True}, "nesterov", "momentum"),
    ({"weight_decay": -1e-4}, "weight_decay", "-0.0001"),
    ({"schedule": "cyclic"}, "schedule", "'cyclic'"),
    ({"schedule": "linear"}, "final_lr", "linear"),
    ({"schedule": "exponential", "final_lr": 0.0}, "final_lr", "0.0"),
    ({"final_lr": 0.05}, "final_lr", "constant"),
    ({"epochs": 0}, "epochs", "0"),
    ({"epochs": 2.5}, "epochs", "2.5"),
    ({"batch_size": 0}, "batch_size", "0"),
    ({"eval_every": -1}, "eval_every", "-1"),
    ({"patience": 0}, "patience", "0"),
    ({"dtype": "float16"}, "dtype", "'float16'"),
    ({"batchnorm": "yes"}, "batchnorm", "'yes'"),
    ({"nesterov": "no", "momentum": 0.9}, "nesterov", "'no'"),
]


@pytest.mark.parametrize("changes, field, value", BAD, ids=[f"{b[1]}={b[2]}" for b in BAD])
def test_bad_value_is_rejected_naming_the_field_and_value(changes, field, value):
    with pytest.raises(ValueError) as info:
        RunConfig(**changes)
    assert field in str(info.value) and value in str(info.value), str(info.value)


def test_init_normal_without_weight_scale_asks_for_it():
    with pytest.raises(ValueError, match="weight_scale"):
        RunConfig(init="normal")


def test_defaults_are_notebook_000s_protocol():
    cfg = RunConfig()
    assert (cfg.hidden, cfg.activation, cfg.output_activation, cfg.init) == (
        (89,), "tanh", "identity", "unit_normal")
    assert (cfg.loss, cfg.optimizer, cfg.lr, cfg.momentum, cfg.schedule) == (
        "softmax_ce", "sgd", 0.1, 0.0, "constant")
    assert (cfg.batch_size, cfg.epochs, cfg.eval_every, cfg.patience) == (64, 50, 1, None)
    assert (cfg.dataset, cfg.keep_prob, cfg.batchnorm) == ("mnist-5k", 1.0, False)


def test_config_is_frozen_and_hashable():
    cfg = RunConfig(hidden=[32, 16])
    assert cfg.hidden == (32, 16)  # a list becomes a tuple
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.lr = 1.0
    assert hash(cfg) == hash(RunConfig(hidden=(32, 16)))


# -- replace ---------------------------------------------------------------------------------------

def test_replace_returns_a_changed_copy():
    base = RunConfig()
    changed = base.replace(lr=0.3, momentum=0.9)
    assert (changed.lr, changed.momentum) == (0.3, 0.9)
    assert (base.lr, base.momentum) == (0.1, 0.0)


def test_replace_validates_the_result():
    with pytest.raises(ValueError, match="lr"):
        RunConfig().replace(lr=-1.0)


def test_replace_rejects_unknown_fields_by_name():
    with pytest.raises(ValueError, match="learning_rate"):
        RunConfig().replace(learning_rate=0.1)


# -- layer specs -----------------------------------------------------------------------------------

def describe(specs) -> list:
    """Dense layers as ("dense", units, init); everything else as its spec string."""
    return [("dense", s.units, s.init_name) if isinstance(s, Dense) else s for s in specs]


def test_layer_specs_of_the_default_are_dense_tanh_dense():
    assert describe(RunConfig().layer_specs(10)) == [
        ("dense", 89, "unit_normal"), "tanh", ("dense", 10, "unit_normal")]


def test_dropout_follows_every_hidden_activation():
    cfg = RunConfig(hidden=(178, 46), keep_prob=0.8, init="glorot_normal")
    assert describe(cfg.layer_specs(10)) == [
        ("dense", 178, "glorot_normal"), "tanh", "dropout:0.8",
        ("dense", 46, "glorot_normal"), "tanh", "dropout:0.8",
        ("dense", 10, "glorot_normal")]


def test_batchnorm_sits_between_dense_and_activation():
    cfg = RunConfig(hidden=(20, 20), batchnorm=True, activation="relu")
    assert describe(cfg.layer_specs(3)) == [
        ("dense", 20, "unit_normal"), "batchnorm", "relu",
        ("dense", 20, "unit_normal"), "batchnorm", "relu",
        ("dense", 3, "unit_normal")]


def test_sigmoid_output_is_appended_after_the_last_dense():
    specs = describe(RunConfig(loss="mse", output_activation="sigmoid").layer_specs(10))
    assert specs[-2:] == [("dense", 10, "unit_normal"), "sigmoid"]


def test_layer_specs_build_a_network_of_the_right_shape():
    cfg = RunConfig(hidden=(16,), keep_prob=0.5)
    net = Sequential(cfg.layer_specs(4), 8, seed=0)
    assert net.output_dim == 4
    assert [a.shape for k, a in net.named_arrays().items() if k.endswith(".W")] == [(8, 16), (16, 4)]


def test_normal_init_uses_the_weight_scale_as_standard_deviation():
    cfg = RunConfig(hidden=(200,), init="normal", weight_scale=0.05)
    net = Sequential(cfg.layer_specs(10), 300, seed=1, dtype="float64")
    w = net.named_arrays()["0.W"]
    assert w.std() == pytest.approx(0.05, rel=0.03)


# -- params and build ------------------------------------------------------------------------------

def test_as_params_has_every_field_as_text():
    cfg = RunConfig(hidden=(178, 46), schedule="linear", lr=0.15, final_lr=0.05)
    params = cfg.as_params()
    assert set(params) == {f.name for f in dataclasses.fields(RunConfig)}
    assert params["hidden"] == "178-46" and params["final_lr"] == "0.05"
    assert params["weight_scale"] == "none" and params["batchnorm"] == "False"
    assert all(isinstance(v, str) for v in params.values())


def test_build_gives_a_fresh_network_optimizer_and_schedule():
    cfg = RunConfig(hidden=(12,), momentum=0.9, lr=0.2, final_lr=0.05, schedule="exponential",
                    epochs=5)
    net, loss, opt, schedule = cfg.build(6, 3, seed=0)
    assert net.output_dim == 3 and net.input_dim == 6
    assert schedule(0) == pytest.approx(0.2) and schedule(4) == pytest.approx(0.05)
    net2, *_ = cfg.build(6, 3, seed=0)
    assert net2 is not net
    for a, b in zip(net.parameters(), net2.parameters()):
        np.testing.assert_array_equal(a.value, b.value)
