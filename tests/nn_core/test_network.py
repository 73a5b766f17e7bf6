import numpy as np
import pytest

from gradcheck import TOL, numerical_grad, rel_error
from nn_core import (SGD, BatchNorm, Dense, Dropout, ReLU, Sequential, SoftmaxCrossEntropy, Tanh,
                     Trainer, accuracy, get_initializer)
from nn_core.rng import generator


def small_net(seed=0, dtype="float64", head=3):
    return Sequential(["dense:5", "batchnorm", "relu", "dense:4", "tanh", f"dense:{head}"],
                      input_dim=3, seed=seed, dtype=dtype)


def trained(net, seed=0, epochs=3):
    """Train a few epochs so the weights and batch-norm buffers are no longer at their defaults."""
    rng = np.random.default_rng(seed)
    x, y = rng.standard_normal((32, net.input_dim)), rng.integers(0, net.output_dim, 32)
    Trainer(net, SoftmaxCrossEntropy(), SGD(net.parameters(), lr=0.1, momentum=0.9),
            batch_size=8, epochs=epochs, seed=seed).fit(x, y)
    return net


# -- end-to-end gradient ------------------------------------------------------------------------

def test_every_parameter_gradient_of_a_full_network_matches_finite_differences():
    net = Sequential(["dense:6", "batchnorm", "relu", "dense:5", "tanh", "dense:4"],
                     input_dim=3, seed=2, dtype="float64")
    rng = np.random.default_rng(12)
    x = rng.standard_normal((8, 3))
    y = rng.integers(0, 4, 8)
    loss = SoftmaxCrossEntropy()
    # Precondition: no relu input within 1e-3 of its kink.
    pre_relu = net.layers[1].forward(net.layers[0].forward(x, True), True)
    assert np.abs(pre_relu).min() > 1e-3

    def f():
        return loss.value(net.forward(x, training=True), y)

    _, grad = loss.value_and_grad(net.forward(x, training=True), y)
    net.backward(grad)
    analytic = {key: p.grad.copy() for key, p in _named_parameters(net).items()}
    assert len(analytic) == 8  # 3 dense (W, b) + batch norm (gamma, beta)
    for key, p in _named_parameters(net).items():
        numeric = numerical_grad(f, p.value)
        if key == "0.b":
            # A bias followed by batch norm in training mode cancels in the batch mean: its
            # true gradient is exactly zero, where a relative error means nothing.
            assert np.abs(analytic[key]).max() <= 1e-12 and np.abs(numeric).max() <= 1e-9
        else:
            assert rel_error(analytic[key], numeric) <= TOL, key


def _named_parameters(net):
    return {f"{i}.{p.name}": p for i, layer in enumerate(net.layers) for p in layer.parameters()}


def test_network_gradient_with_fixed_dropout_masks_matches_finite_differences():
    net = Sequential(["dense:6", "tanh", "dropout:0.7", "dense:3"], input_dim=4, seed=1,
                     dtype="float64")
    rng = np.random.default_rng(13)
    x, y = rng.standard_normal((5, 4)), rng.integers(0, 3, 5)
    loss = SoftmaxCrossEntropy()

    def f():
        net.layers[2].rng = np.random.default_rng(99)
        return loss.value(net.forward(x, training=True), y)

    net.layers[2].rng = np.random.default_rng(99)
    _, grad = loss.value_and_grad(net.forward(x, training=True), y)
    assert np.any(net.layers[2]._mask == 0.0)  # the fixed mask drops some units
    net.backward(grad)
    for p in net.parameters():
        assert rel_error(p.grad.copy(), numerical_grad(f, p.value)) <= TOL, p.name


def test_first_parameterised_layer_skips_its_input_gradient():
    net = Sequential(["tanh", "dense:4", "relu", "dense:2"], input_dim=3, seed=0)
    assert [layer.needs_input_grad for layer in net.layers] == [False, False, True, True]


# -- training -----------------------------------------------------------------------------------

def test_overfits_fifty_random_samples_to_full_training_accuracy():
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((50, 20)), rng.integers(0, 10, 50)
    net = Sequential(["dense:64", "tanh", "dense:10"], input_dim=20, seed=0)
    opt = SGD(net.parameters(), lr=0.1, momentum=0.9)
    Trainer(net, SoftmaxCrossEntropy(), opt, batch_size=10, epochs=100, seed=0).fit(x, y)
    assert accuracy(net.predict(x), y) == 1.0


def _train_run(seed):
    rng = np.random.default_rng(5)
    x, y = rng.standard_normal((40, 6)), rng.integers(0, 3, 40)
    net = Sequential(["dense:8", "batchnorm", "relu", "dropout:0.8", "dense:3"], input_dim=6,
                     seed=seed)
    history = Trainer(net, SoftmaxCrossEntropy(), SGD(net.parameters(), lr=0.05, momentum=0.9),
                      batch_size=8, epochs=4, seed=seed).fit(x, y)
    return history, net


def test_same_seed_gives_bit_identical_history_and_weights():
    (h1, n1), (h2, n2) = _train_run(7), _train_run(7)
    assert np.array_equal(h1.column("train_loss"), h2.column("train_loss"))
    s1, s2 = n1.state_dict(), n2.state_dict()
    assert s1.keys() == s2.keys()
    assert all(np.array_equal(s1[k], s2[k]) for k in s1)


def test_different_seeds_give_different_histories():
    (h1, _), (h2, _) = _train_run(7), _train_run(8)
    assert not np.array_equal(h1.column("train_loss"), h2.column("train_loss"))


def test_same_seed_gives_identical_initial_weights_and_different_seeds_do_not():
    a, b, c = small_net(seed=3), small_net(seed=3), small_net(seed=4)
    assert all(np.array_equal(p.value, q.value) for p, q in zip(a.parameters(), b.parameters()))
    assert not np.array_equal(a.layers[0].W.value, c.layers[0].W.value)


def test_dense_weights_come_from_the_init_stream_numbered_among_dense_layers():
    net = Sequential(["tanh", "dense:7", "tanh", "dense:3"], input_dim=5, seed=11, dtype="float64")
    glorot = get_initializer("glorot_normal")
    first = glorot((5, 7), generator(11, "init", 0), np.dtype("float64"))
    second = glorot((7, 3), generator(11, "init", 1), np.dtype("float64"))
    assert np.array_equal(net.layers[1].W.value, first)
    assert np.array_equal(net.layers[3].W.value, second)


def test_dropout_and_batchnorm_layers_do_not_change_the_dense_weights_drawn():
    """Common random numbers: arms that add dropout or batch norm start from the same weights."""
    plain = Sequential(["dense:6", "tanh", "dense:3"], input_dim=4, seed=5)
    extra = Sequential(["dense:6", "batchnorm", "tanh", "dropout:0.8", "dense:3"], input_dim=4, seed=5)
    assert np.array_equal(plain.layers[0].W.value, extra.layers[0].W.value)
    assert np.array_equal(plain.layers[2].W.value, extra.layers[4].W.value)


def test_dropout_masks_come_from_the_dropout_stream_numbered_among_dropout_layers():
    one = Sequential(["dense:6", "dropout:0.5", "dense:6", "dropout:0.5", "dense:2"], input_dim=3, seed=2)
    two = Sequential(["dense:6", "tanh", "dropout:0.5", "dense:6", "dropout:0.5", "dense:2"], input_dim=3, seed=2)
    x = np.ones((4, 3), dtype=np.float32)
    one.forward(x, training=True)
    two.forward(x, training=True)
    assert np.array_equal(one.layers[1]._mask, two.layers[2]._mask)
    assert np.array_equal(one.layers[3]._mask, two.layers[4]._mask)
    assert not np.array_equal(one.layers[1]._mask, one.layers[3]._mask)


def test_glorot_weights_are_the_unit_normal_draws_times_glorot_std():
    unit = Sequential([Dense(7, init="unit_normal"), Dense(3, init="unit_normal")], input_dim=5,
                      seed=9, dtype="float64")
    glorot = Sequential([Dense(7, init="glorot_normal"), Dense(3, init="glorot_normal")],
                        input_dim=5, seed=9, dtype="float64")
    for u, g, (fan_in, fan_out) in zip(unit.layers, glorot.layers, [(5, 7), (7, 3)]):
        std = np.sqrt(2.0 / (fan_in + fan_out))
        np.testing.assert_allclose(g.W.value, u.W.value * std, rtol=1e-12)


# -- weight files ------------------------------------------------------------------------------

def test_save_then_load_round_trips_every_parameter_and_buffer(tmp_path):
    source = trained(small_net(seed=0))
    path = tmp_path / "weights.npz"
    source.save(path)
    target = small_net(seed=1)
    target.load(path)
    src, dst = source.state_dict(), target.state_dict()
    assert src.keys() == dst.keys()
    assert any(k.endswith("running_var") for k in src)
    assert all(np.array_equal(src[k], dst[k]) for k in src)


def test_loaded_network_predicts_like_the_saved_one(tmp_path):
    source = trained(small_net(seed=0))
    source.save(tmp_path / "w.npz")
    target = small_net(seed=1)
    target.load(tmp_path / "w.npz")
    x = np.random.default_rng(3).standard_normal((10, 3))
    assert np.array_equal(source.predict(x), target.predict(x))


def test_save_leaves_no_temporary_file(tmp_path):
    small_net().save(tmp_path / "w.npz")
    assert [p.name for p in tmp_path.iterdir()] == ["w.npz"]


def test_load_of_truncated_file_raises_value_error(tmp_path):
    path = tmp_path / "w.npz"
    trained(small_net()).save(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="w.npz"):
        small_net().load(path)


def test_load_of_empty_file_raises_value_error(tmp_path):
    path = tmp_path / "w.npz"
    path.write_bytes(b"")
    with pytest.raises(ValueError):
        small_net().load(path)


def test_load_of_a_single_npy_array_raises_value_error(tmp_path):
    path = tmp_path / "w.npz"
    with open(path, "wb") as fh:
        np.save(fh, np.zeros(3))
    with pytest.raises(ValueError, match="not a plain weight file"):
        small_net().load(path)


def test_load_of_missing_file_raises_value_error_naming_it(tmp_path):
    with pytest.raises(ValueError, match="absent.npz"):
        small_net().load(tmp_path / "absent.npz")


UNPICKLED = []


def _record_unpickling():
    UNPICKLED.append(True)
    return "payload"


class _Trap:
    """Unpickling this object calls ``_record_unpickling``."""

    def __reduce__(self):
        return (_record_unpickling, ())


def test_load_of_object_array_raises_value_error_without_unpickling(tmp_path):
    net = small_net()
    arrays = net.state_dict()
    arrays["0.b"] = np.array([_Trap()] * 5, dtype=object)
    path = tmp_path / "w.npz"
    np.savez(path, **arrays)
    UNPICKLED.clear()
    with pytest.raises(ValueError, match="not a plain weight file"):
        net.load(path)
    assert UNPICKLED == []


def test_load_into_network_with_different_shape_raises_naming_the_weight(tmp_path):
    small_net(head=3).save(tmp_path / "w.npz")
    with pytest.raises(ValueError, match=r"'5\.W'.*\(4, 3\).*\(4, 2\)"):
        small_net(head=2).load(tmp_path / "w.npz")


def test_failed_load_leaves_the_network_unchanged(tmp_path):
    small_net(seed=0, head=3).save(tmp_path / "w.npz")
    net = small_net(seed=1, head=2)
    before = net.state_dict()
    with pytest.raises(ValueError):
        net.load(tmp_path / "w.npz")
    after = net.state_dict()
    assert all(np.array_equal(before[k], after[k]) for k in before)


def test_load_of_non_numeric_array_raises_and_leaves_the_network_unchanged(tmp_path):
    net = small_net(seed=0)
    arrays = small_net(seed=1).state_dict()  # every other array would change the network
    before = net.state_dict()
    arrays["5.b"] = np.array(["a", "b", "c"])
    np.savez(tmp_path / "w.npz", **arrays)
    with pytest.raises(ValueError, match="'5.b'"):
        net.load(tmp_path / "w.npz")
    after = net.state_dict()
    assert all(np.array_equal(before[k], after[k]) for k in before)


def test_load_with_missing_and_extra_weights_raises_naming_them(tmp_path):
    Sequential(["dense:4", "tanh", "dense:3"], input_dim=3).save(tmp_path / "w.npz")
    net = Sequential(["dense:4", "dense:3"], input_dim=3)
    with pytest.raises(ValueError, match=r"missing \['1\.W', '1\.b'\], unexpected \['2\.W', '2\.b'\]"):
        net.load(tmp_path / "w.npz")


def test_load_state_dict_updates_arrays_in_place_so_optimizers_keep_references():
    net = small_net(seed=0)
    w = net.layers[0].W.value
    net.load_state_dict(small_net(seed=1).state_dict())
    assert net.layers[0].W.value is w
    assert np.array_equal(w, small_net(seed=1).layers[0].W.value)


# -- construction -------------------------------------------------------------------------------

def test_notebook_003_five_layer_spec_list_builds_the_expected_network():
    L = 5
    specs = ["dense:100", "batchnorm", "relu"] * (L - 1) + ["dense:10"]
    net = Sequential(specs, input_dim=784, seed=0)
    kinds = [type(layer) for layer in net.layers]
    assert kinds == [Dense, BatchNorm, ReLU] * 4 + [Dense]
    n_params = sum(p.value.size for p in net.parameters())
    assert n_params == (784 * 100 + 100) + 3 * (100 * 100 + 100) + (100 * 10 + 10) + 4 * 2 * 100
    out = net.forward(np.random.default_rng(0).standard_normal((6, 784)), training=True)
    assert out.shape == (6, 10)


def test_layer_instances_can_be_mixed_with_specs():
    net = Sequential([Dense(4), Tanh(), "dropout:0.5", "dense:2"], input_dim=3)
    assert [type(layer) for layer in net.layers][:3] == [Dense, Tanh, Dropout]
    assert net.output_dim == 2


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_dtype_is_used_for_parameters_buffers_and_outputs(dtype):
    net = small_net(dtype=dtype)
    assert all(a.dtype == np.dtype(dtype) for a in net.named_arrays().values())
    # Inputs in the other precision are converted.
    other = np.float64 if dtype == "float32" else np.float32
    out = net.forward(np.ones((2, 3), dtype=other), training=True)
    assert out.dtype == np.dtype(dtype)


def test_default_dtype_is_float32():
    assert all(p.value.dtype == np.float32 for p in Sequential(["dense:2"], input_dim=2).parameters())


def test_predict_in_chunks_equals_one_inference_forward():
    net = trained(small_net())
    x = np.random.default_rng(4).standard_normal((23, 3))
    assert np.allclose(net.predict(x, batch_size=5), net.forward(x, training=False), rtol=1e-14, atol=0)


def test_predict_of_empty_input_has_zero_rows_and_output_width():
    assert small_net(head=3).predict(np.zeros((0, 3))).shape == (0, 3)


def test_the_same_layer_object_twice_raises():
    layer = Tanh()
    with pytest.raises(ValueError, match="same layer object"):
        Sequential(["dense:3", layer, layer], input_dim=2)


def test_empty_layer_list_raises():
    with pytest.raises(ValueError, match="at least one layer"):
        Sequential([], input_dim=3)


def test_non_float_dtype_raises():
    with pytest.raises(ValueError, match="float32 or float64, got int32"):
        Sequential(["dense:2"], input_dim=2, dtype="int32")


def test_forward_with_wrong_input_width_raises():
    with pytest.raises(ValueError, match=r"\(batch, 3\), got \(2, 4\)"):
        small_net().forward(np.zeros((2, 4)))
