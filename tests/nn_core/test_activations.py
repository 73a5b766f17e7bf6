import math
import warnings

import numpy as np
import pytest

from gradcheck import TOL, away_from_zero, layer_gradients, layer_objective, numerical_grad, rel_error
from nn_core import ACTIVATIONS, Identity, LeakyReLU, ReLU, ReLU6, Sigmoid, Tanh, layer_from_spec

FACTORIES = {
    "identity": Identity,
    "sigmoid": Sigmoid,
    "tanh": Tanh,
    "relu": ReLU,
    "relu6": ReLU6,
    "leaky_relu_default": LeakyReLU,
    "leaky_relu_0.1": lambda: LeakyReLU(0.1),
}


@pytest.fixture
def x():
    # |x| >= 0.2: relu and leaky relu have no kink within eps of any input.
    return away_from_zero(np.random.default_rng(3), (4, 5))


@pytest.mark.parametrize("name", FACTORIES)
def test_input_gradient_matches_finite_differences(name, x):
    layer = FACTORIES[name]()
    rng = np.random.default_rng(4)
    weights = away_from_zero(rng, x.shape, 0.5, 1.5)
    dx, _ = layer_gradients(layer, x, weights)
    numeric = numerical_grad(layer_objective(layer, x, weights), x)
    assert rel_error(dx, numeric) <= TOL


def _elementwise(fn, x):
    return np.array([[fn(float(v)) for v in row] for row in x])


def test_sigmoid_forward_equals_one_over_one_plus_exp_minus_x(x):
    expected = _elementwise(lambda v: 1.0 / (1.0 + math.exp(-v)), x)
    assert np.allclose(Sigmoid().forward(x), expected, rtol=1e-14, atol=1e-15)


def test_tanh_forward_equals_exponential_formula(x):
    expected = _elementwise(lambda v: (math.exp(v) - math.exp(-v)) / (math.exp(v) + math.exp(-v)), x)
    assert np.allclose(Tanh().forward(x), expected, rtol=1e-13, atol=1e-15)


def test_relu_forward_keeps_positives_and_zeroes_negatives(x):
    expected = _elementwise(lambda v: v if v > 0 else 0.0, x)
    assert np.array_equal(ReLU().forward(x), expected)


def _relu6_inputs():
    """Values on both sides of both kinks (0 and 6), each at least 0.2 from them, float64."""
    rng = np.random.default_rng(5)
    centres = rng.choice([0.0, 6.0], (4, 6))
    return centres + away_from_zero(rng, (4, 6), 0.2, 1.5)


def test_relu6_input_gradient_matches_finite_differences_across_both_kinks():
    x = _relu6_inputs()
    assert (x < 0).any() and ((x > 0) & (x < 6)).any() and (x > 6).any()
    layer = ReLU6()
    weights = away_from_zero(np.random.default_rng(6), x.shape, 0.5, 1.5)
    dx, _ = layer_gradients(layer, x, weights)
    numeric = numerical_grad(layer_objective(layer, x, weights), x)
    assert rel_error(dx, numeric) <= TOL


def test_relu6_forward_clips_to_zero_and_six():
    x = _relu6_inputs()
    expected = _elementwise(lambda v: min(max(v, 0.0), 6.0), x)
    assert np.array_equal(ReLU6().forward(x), expected)


def test_relu6_is_registered_by_name():
    assert ACTIVATIONS["relu6"] is ReLU6
    assert isinstance(layer_from_spec("relu6"), ReLU6)


def test_leaky_relu_forward_scales_negatives_by_alpha(x):
    expected = _elementwise(lambda v: v if v > 0 else 0.1 * v, x)
    assert np.allclose(LeakyReLU(0.1).forward(x), expected, rtol=1e-15, atol=0)


def test_identity_returns_input_and_gradient_unchanged(x):
    layer = Identity()
    assert np.array_equal(layer.forward(x), x)
    grad = np.arange(x.size, dtype=float).reshape(x.shape)
    assert np.array_equal(layer.backward(grad), grad)


def test_sigmoid_saturates_without_overflow_warnings_for_huge_inputs():
    x = np.array([[-1000.0, 1000.0, -1e300, 1e300]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = Sigmoid().forward(x)
    assert np.array_equal(y, [[0.0, 1.0, 0.0, 1.0]])


def test_relu_gradient_is_exactly_zero_for_negative_inputs(x):
    layer = ReLU()
    layer.forward(x, True)
    grad = layer.backward(np.full(x.shape, 2.5))
    assert np.array_equal(grad, np.where(x > 0, 2.5, 0.0))


def test_leaky_relu_spec_sets_alpha():
    assert layer_from_spec("leaky_relu:0.2").alpha == 0.2


@pytest.mark.parametrize("name", FACTORIES)
def test_float32_input_gives_float32_output_and_gradient(name, x):
    layer = FACTORIES[name]()
    x32 = x.astype(np.float32)
    y = layer.forward(x32, True)
    g = layer.backward(np.ones_like(x32))
    assert y.dtype == np.float32
    assert g.dtype == np.float32
