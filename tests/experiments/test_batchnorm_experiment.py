"""The batch-norm experiment (notebook 003): depths, widths and weight scales become arms
with the right layer specs. (Named apart from tests/nn_core/test_batchnorm.py: the test
folders are not packages, so module names must be unique.)"""

from __future__ import annotations

from dataclasses import fields

import pytest

from experiments import RunConfig, get_experiment
from experiments.batchnorm import make_batchnorm
from nn_core import Dense
from nn_core.network import Sequential


def dense_layers(config, n_outputs=10):
    return [s for s in config.layer_specs(n_outputs) if isinstance(s, Dense)]


def test_default_arms_pair_plain_and_batchnorm_per_depth_and_scale():
    exp = make_batchnorm()
    assert exp.arm_names == [
        "plain-L3-ws0.01", "bn-L3-ws0.01", "plain-L3-ws0.05", "bn-L3-ws0.05",
        "plain-L5-ws0.01", "bn-L5-ws0.01", "plain-L5-ws0.05", "bn-L5-ws0.05"]
    assert exp.baseline == "plain-L3-ws0.01"


def test_each_batchnorm_arm_differs_from_its_plain_twin_only_in_batchnorm():
    exp = make_batchnorm(depths=(4,), weight_scales=(0.02, 0.1))
    for arm in exp.arms:
        if arm.name.startswith("bn-"):
            twin = exp.arm(arm.compare_to)
            assert twin.name == arm.name.replace("bn-", "plain-", 1)
            differ = {f.name for f in fields(RunConfig)
                      if getattr(arm.config, f.name) != getattr(twin.config, f.name)}
            assert differ == {"batchnorm"} and arm.config.batchnorm


@pytest.mark.parametrize("depth", [2, 3, 6])
def test_depth_counts_affine_layers(depth):
    exp = make_batchnorm(depths=(depth,), widths=(30,), weight_scales=(0.05,))
    plain, bn = (exp.arm(f"{kind}-L{depth}-ws0.05").config for kind in ("plain", "bn"))
    assert [d.units for d in dense_layers(plain)] == [30] * (depth - 1) + [10]
    specs = bn.layer_specs(10)
    assert specs.count("batchnorm") == depth - 1
    assert "batchnorm" not in plain.layer_specs(10)
    for i, spec in enumerate(specs):  # every batch norm: after a hidden Dense, before ReLU
        if spec == "batchnorm":
            assert isinstance(specs[i - 1], Dense) and specs[i + 1] == "relu"


def test_one_width_per_hidden_layer_for_a_single_depth():
    exp = make_batchnorm(depths=(4,), widths=(64, 32, 16), weight_scales=(0.05,))
    assert [d.units for d in dense_layers(exp.arms[0].config)] == [64, 32, 16, 10]


def test_wrong_number_of_widths_is_rejected():
    with pytest.raises(ValueError, match="depth - 1 = 3"):
        make_batchnorm(depths=(4,), widths=(64, 32))


@pytest.mark.parametrize("depth", [1, 0])
def test_depth_below_2_is_rejected_naming_it(depth):
    with pytest.raises(ValueError, match=f"depth must be >= 2.*got {depth}"):
        make_batchnorm(depths=(3, depth))


@pytest.mark.parametrize("scale", [0.01, 0.05])
def test_weight_scale_is_the_init_std_of_every_dense_layer(scale):
    cfg = make_batchnorm(depths=(3,), widths=(200,), weight_scales=(scale,)).arms[0].config
    assert (cfg.init, cfg.weight_scale) == ("normal", scale)
    assert {d.init_name for d in dense_layers(cfg)} == {"normal"}
    net = Sequential(cfg.layer_specs(10), 300, seed=0, dtype="float64")
    for key, w in net.named_arrays().items():
        if key.endswith(".W") and w.size >= 200 * 200:
            assert w.std() == pytest.approx(scale, rel=0.03), key


def test_notebook_003_settings():
    cfg = make_batchnorm().arms[0].config
    assert (cfg.dataset, cfg.activation, cfg.optimizer, cfg.momentum) == ("synthetic", "relu", "sgd", 0.0)
    assert (cfg.lr, cfg.epochs, cfg.batch_size, cfg.eval_every, cfg.patience) == (0.2, 100, 50, 1, None)


def test_registry_passes_options_to_the_factory():
    exp = get_experiment("batchnorm", depths=(7,), weight_scales=(0.2,))
    assert exp.arm_names == ["plain-L7-ws0.2", "bn-L7-ws0.2"]
