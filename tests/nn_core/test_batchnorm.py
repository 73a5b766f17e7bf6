import numpy as np
import pytest

from gradcheck import TOL, layer_gradients, layer_objective, numerical_grad, rel_error
from nn_core import BatchNorm, layer_from_spec

WIDTH, BATCH = 4, 6


def built_bn(momentum=0.9, eps=1e-5, dtype="float64"):
    layer = BatchNorm(momentum=momentum, eps=eps)
    layer.build(WIDTH, np.random.default_rng(0), np.dtype(dtype))
    return layer


@pytest.fixture
def case():
    """A layer with non-trivial gamma, beta and running statistics, a batch and weights."""
    rng = np.random.default_rng(8)
    layer = built_bn()
    layer.gamma.value[...] = rng.uniform(0.5, 2.0, WIDTH)
    layer.beta.value[...] = rng.standard_normal(WIDTH)
    layer.running_mean[...] = rng.standard_normal(WIDTH)
    layer.running_var[...] = rng.uniform(0.5, 2.0, WIDTH)
    x = rng.standard_normal((BATCH, WIDTH)) * 2.0 + 1.0
    weights = rng.uniform(0.5, 1.5, (BATCH, WIDTH)) * rng.choice([-1.0, 1.0], (BATCH, WIDTH))
    return layer, x, weights


@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
def test_input_gradient_matches_finite_differences(case, training):
    layer, x, weights = case
    dx, _ = layer_gradients(layer, x, weights, training)
    numeric = numerical_grad(layer_objective(layer, x, weights, training), x)
    assert rel_error(dx, numeric) <= TOL


@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
@pytest.mark.parametrize("name", ["gamma", "beta"])
def test_parameter_gradient_matches_finite_differences(case, training, name):
    layer, x, weights = case
    _, grads = layer_gradients(layer, x, weights, training)
    param = {p.name: p for p in layer.parameters()}[name]
    numeric = numerical_grad(layer_objective(layer, x, weights, training), param.value)
    assert rel_error(grads[name], numeric) <= TOL


def test_training_output_has_zero_mean_and_unit_variance_per_feature():
    layer = built_bn()
    x = np.random.default_rng(1).standard_normal((200, WIDTH)) * [1.0, 5.0, 20.0, 3.0] + [0, -3, 10, 100]
    out = layer.forward(x, training=True)
    assert np.allclose(out.mean(axis=0), 0.0, atol=1e-12)
    # var(out) = var / (var + eps) with eps = 1e-5 and var >= ~1: within 2e-5 of one.
    assert np.allclose(out.var(axis=0), 1.0, atol=2e-5)


def test_training_updates_running_statistics_by_exponential_average():
    layer = built_bn(momentum=0.8)
    rng = np.random.default_rng(2)
    x1 = rng.standard_normal((10, WIDTH)) * 3.0 + 2.0
    x2 = rng.standard_normal((10, WIDTH)) - 1.0
    layer.forward(x1, training=True)
    layer.forward(x2, training=True)

    def biased_var(x):
        return ((x - x.mean(axis=0)) ** 2).sum(axis=0) / x.shape[0]

    mean1 = 0.8 * 0.0 + 0.2 * x1.mean(axis=0)
    var1 = 0.8 * 1.0 + 0.2 * biased_var(x1)
    assert np.allclose(layer.running_mean, 0.8 * mean1 + 0.2 * x2.mean(axis=0), rtol=1e-13, atol=1e-15)
    assert np.allclose(layer.running_var, 0.8 * var1 + 0.2 * biased_var(x2), rtol=1e-13)


def test_inference_does_not_change_running_statistics(case):
    layer, x, _ = case
    mean, var = layer.running_mean.copy(), layer.running_var.copy()
    layer.forward(x, training=False)
    assert np.array_equal(layer.running_mean, mean)
    assert np.array_equal(layer.running_var, var)


def test_inference_output_differs_from_training_output_after_a_few_updates():
    layer = built_bn()
    rng = np.random.default_rng(3)
    x = rng.standard_normal((16, WIDTH)) * 2.0 + 3.0
    for _ in range(3):
        train_out = layer.forward(x, training=True)
    eval_out = layer.forward(x, training=False)
    assert not np.allclose(eval_out, train_out, atol=1e-3)


def test_inference_output_uses_running_statistics_formula(case):
    layer, x, _ = case
    rm, rv, eps = layer.running_mean, layer.running_var, layer.eps
    g, b = layer.gamma.value, layer.beta.value
    expected = np.array([[g[j] * (x[i, j] - rm[j]) / np.sqrt(rv[j] + eps) + b[j]
                          for j in range(WIDTH)] for i in range(BATCH)])
    assert np.allclose(layer.forward(x, training=False), expected, rtol=1e-13, atol=1e-14)


def test_backward_without_input_grad_returns_none_but_fills_parameter_grads(case):
    layer, x, weights = case
    layer.needs_input_grad = False
    layer.forward(x, training=True)
    assert layer.backward(weights) is None
    assert np.allclose(layer.beta.grad, weights.sum(axis=0), rtol=1e-14)


def test_running_statistics_are_saved_as_buffers():
    layer = built_bn()
    assert set(layer.buffers()) == {"running_mean", "running_var"}
    assert layer.buffers()["running_mean"] is layer.running_mean


def test_spec_keyword_sets_momentum():
    assert layer_from_spec("batchnorm:momentum=0.5").momentum == 0.5


@pytest.mark.parametrize("kwargs, fragment", [({"momentum": 1.5}, "momentum"), ({"eps": 0.0}, "eps")])
def test_bad_hyperparameters_raise(kwargs, fragment):
    with pytest.raises(ValueError, match=fragment):
        BatchNorm(**kwargs)
