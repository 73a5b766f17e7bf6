"""Flat parameter storage (nn_core.flat): same bits as per-parameter storage, same API."""

import copy
import pickle
import shutil

import numpy as np
import pytest

import nn_core as nc
from benchmarks.flatcheck import CONFIGS, compare_with_revision, histories, same_bits


def test_flat_and_per_parameter_storage_train_to_the_same_bits():
    flat, detached = histories(detach=False), histories(detach=True)
    assert set(flat) == set(CONFIGS)
    assert same_bits(flat, detached) == []


def test_same_bits_notices_a_one_ulp_difference():
    flat = histories(detach=False)
    other = {k: {n: a.copy() for n, a in v.items()} for k, v in flat.items()}
    w = other["adam"]["w/0.W"]
    w.flat[0] = np.nextafter(w.flat[0], np.inf)
    assert same_bits(flat, other) == ["adam"]


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git to export nn_core")
def test_flat_storage_matches_nn_core_before_it():
    result = compare_with_revision()  # the newest revision without nn_core/flat.py
    assert result["flat_vs_revision"] == [] and result["detached_vs_revision"] == []


def _net(dtype="float32"):
    return nc.Sequential(["dense:6", "batchnorm", "tanh", "dense:3"], input_dim=4, seed=1,
                         dtype=dtype)


def test_parameters_are_views_into_one_array_per_kind():
    net = _net()
    block = net._flat
    params = net.parameters()
    assert block.value.size == sum(p.value.size for p in params)
    for p in params:
        assert p.value.base is block.value and p.grad.base is block.grad
    # weights (decay=True) lead the block, so weight decay covers a prefix
    assert block.n_decay == sum(p.value.size for p in params if p.decay)
    opt = nc.Adam(params, lr=0.01)
    assert opt._block is block


def _fit(net, opt, epochs=2):
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((40, 4)), rng.integers(0, 3, 40)
    nc.Trainer(net, nc.SoftmaxCrossEntropy(), opt, batch_size=8, epochs=epochs).fit(x, y)


def test_optimizer_state_is_per_parameter_views_of_the_flat_state():
    net = _net()
    opt = nc.SGD(net.parameters(), lr=0.1, momentum=0.9)
    _fit(net, opt)
    for p, state in zip(opt.params, opt.state):
        assert state["velocity"].shape == p.value.shape
        assert state["velocity"].base is opt._flat_state["velocity"]


def test_rebinding_a_parameter_falls_back_to_per_parameter_steps():
    net = _net()
    opt = nc.SGD(net.parameters(), lr=0.1, momentum=0.9)
    _fit(net, opt, epochs=1)
    p = net.parameters()[0]
    p.value = p.value.copy()  # no longer a view: the block must not be used
    before = p.value.copy()
    _fit(net, opt, epochs=1)
    assert opt._block is None
    assert not np.array_equal(before, p.value), "the rebound parameter was not trained"


@pytest.mark.parametrize("clone", [copy.deepcopy, lambda o: pickle.loads(pickle.dumps(o))])
def test_a_copied_network_and_optimizer_still_train(clone):
    net = _net()
    opt = nc.SGD(net.parameters(), lr=0.1, momentum=0.9)
    net2, opt2 = clone((net, opt))
    before = net2.parameters()[0].value.copy()
    _fit(net2, opt2, epochs=1)
    assert not np.array_equal(before, net2.parameters()[0].value)
    assert not net2._flat.intact()


def test_save_and_load_round_trip_keeps_the_views(tmp_path):
    net, other = _net(), nc.Sequential(["dense:6", "batchnorm", "tanh", "dense:3"],
                                       input_dim=4, seed=2)
    _fit(net, nc.SGD(net.parameters(), lr=0.1))
    net.save(tmp_path / "w.npz")
    other.load(tmp_path / "w.npz")
    for a, b in zip(net.parameters(), other.parameters()):
        assert np.array_equal(a.value, b.value)
        assert b.value.base is other._flat.value
