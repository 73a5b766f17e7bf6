import numpy as np
import pytest

from gradcheck import TOL, layer_gradients, layer_objective, numerical_grad, rel_error
from nn_core import Dense

FAN_IN, UNITS, BATCH = 4, 3, 5


def built_dense(units=UNITS, fan_in=FAN_IN, seed=0, dtype="float64", **kwargs):
    layer = Dense(units, **kwargs)
    layer.build(fan_in, np.random.default_rng(seed), np.dtype(dtype))
    return layer


@pytest.fixture
def setup():
    rng = np.random.default_rng(11)
    layer = built_dense()
    layer.b.value[...] = rng.standard_normal(UNITS)  # a non-zero bias, so it matters
    x = rng.standard_normal((BATCH, FAN_IN))
    weights = rng.uniform(0.5, 1.5, (BATCH, UNITS)) * rng.choice([-1.0, 1.0], (BATCH, UNITS))
    return layer, x, weights


def test_build_returns_units_and_allocates_fan_in_by_units_weights():
    layer = Dense(UNITS)
    out_dim = layer.build(FAN_IN, np.random.default_rng(0), np.dtype("float64"))
    assert out_dim == UNITS
    assert layer.W.value.shape == (FAN_IN, UNITS)
    assert layer.b.value.shape == (UNITS,)


def test_forward_computes_x_times_W_plus_b(setup):
    layer, x, _ = setup
    W, b = layer.W.value, layer.b.value
    expected = np.array([[sum(x[i, k] * W[k, j] for k in range(FAN_IN)) + b[j]
                          for j in range(UNITS)] for i in range(BATCH)])
    assert np.allclose(layer.forward(x), expected, rtol=1e-12, atol=1e-12)


def test_input_gradient_matches_finite_differences(setup):
    layer, x, weights = setup
    dx, _ = layer_gradients(layer, x, weights)
    numeric = numerical_grad(layer_objective(layer, x, weights), x)
    assert rel_error(dx, numeric) <= TOL


@pytest.mark.parametrize("name", ["W", "b"])
def test_parameter_gradient_matches_finite_differences(setup, name):
    layer, x, weights = setup
    _, grads = layer_gradients(layer, x, weights)
    param = {p.name: p for p in layer.parameters()}[name]
    numeric = numerical_grad(layer_objective(layer, x, weights), param.value)
    assert rel_error(grads[name], numeric) <= TOL


def test_backward_without_input_grad_returns_none_but_still_fills_parameter_grads(setup):
    layer, x, weights = setup
    layer.forward(x, True)
    layer.backward(weights)
    expected_W, expected_b = layer.W.grad.copy(), layer.b.grad.copy()
    layer.W.grad[...] = 0.0
    layer.b.grad[...] = 0.0
    layer.needs_input_grad = False
    layer.forward(x, True)
    assert layer.backward(weights) is None
    assert np.array_equal(layer.W.grad, expected_W)
    assert np.array_equal(layer.b.grad, expected_b)


def test_forward_rejects_input_of_wrong_width(setup):
    layer, _, _ = setup
    with pytest.raises(ValueError, match=r"\(batch, 4\).*\(5, 3\)"):
        layer.forward(np.zeros((5, 3)))


def test_weights_are_marked_for_decay_and_bias_is_not():
    layer = built_dense()
    assert layer.W.decay is True
    assert layer.b.decay is False


def test_bias_is_initialised_to_zero():
    layer = built_dense(units=50, fan_in=20, init="unit_normal")
    assert np.all(layer.b.value == 0.0)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_build_uses_the_requested_dtype(dtype):
    layer = built_dense(dtype=dtype)
    assert layer.W.value.dtype == np.dtype(dtype)
    assert layer.b.value.dtype == np.dtype(dtype)
    assert layer.W.grad.dtype == np.dtype(dtype)
