import math

import numpy as np
import pytest

from gradcheck import TOL, layer_gradients, layer_objective, numerical_grad, rel_error
from nn_core import Dropout, layer_from_spec


def built_dropout(keep=0.8, width=6, seed=0, dtype="float64"):
    layer = Dropout(keep)
    layer.build(width, np.random.default_rng(seed), np.dtype(dtype))
    return layer


def test_input_gradient_with_a_fixed_mask_matches_finite_differences():
    layer = built_dropout(keep=0.6)
    rng = np.random.default_rng(5)
    x = rng.standard_normal((5, 6))
    weights = rng.uniform(0.5, 1.5, x.shape)

    def same_mask():
        layer.rng = np.random.default_rng(123)

    f = layer_objective(layer, x, weights, training=True, before=same_mask)
    dx, _ = layer_gradients(layer, x, weights, training=True, before=same_mask)
    assert np.any(dx == 0.0) and np.any(dx != 0.0)  # the mask really drops some units
    assert rel_error(dx, numerical_grad(f, x)) <= TOL


def test_mean_of_masked_outputs_preserves_the_input():
    keep, n = 0.7, 50_000
    row = np.array([[1.0, -2.0, 0.5, 3.0, -0.25, 4.0]])
    layer = built_dropout(keep=keep, width=row.shape[1], seed=9)
    out = layer.forward(np.repeat(row, n, axis=0), training=True)
    # Each output is x / keep with probability keep, else 0: mean x, std |x| sqrt((1-keep)/keep).
    se = np.abs(row[0]) * math.sqrt((1.0 - keep) / keep / n)
    assert np.all(np.abs(out.mean(axis=0) - row[0]) <= 5.0 * se)


def test_kept_units_are_scaled_by_one_over_keep_and_the_rest_are_zero():
    keep = 0.5
    layer = built_dropout(keep=keep, width=8)
    x = np.random.default_rng(1).uniform(1.0, 2.0, (50, 8))
    out = layer.forward(x, training=True)
    kept = out != 0.0
    assert np.allclose(out[kept], x[kept] / keep, rtol=1e-15, atol=0)
    # Share of dropped units ~ 1 - keep: binomial, 400 draws, 5 standard errors.
    assert abs((~kept).mean() - (1 - keep)) <= 5 * math.sqrt(keep * (1 - keep) / kept.size)


def test_inference_is_the_identity_in_forward_and_backward():
    layer = built_dropout(keep=0.5)
    x = np.random.default_rng(2).standard_normal((4, 6))
    assert np.array_equal(layer.forward(x, training=False), x)
    grad = np.random.default_rng(3).standard_normal((4, 6))
    assert np.array_equal(layer.backward(grad), grad)


def test_keep_one_is_the_identity_during_training():
    layer = built_dropout(keep=1.0)
    x = np.random.default_rng(2).standard_normal((4, 6))
    assert np.array_equal(layer.forward(x, training=True), x)


def test_backward_applies_the_same_mask_as_forward():
    layer = built_dropout(keep=0.5)
    x = np.ones((4, 6))
    out = layer.forward(x, training=True)
    assert np.array_equal(layer.backward(np.ones((4, 6))), out)


@pytest.mark.parametrize("keep", [0.0, -0.1, 1.5, math.nan, math.inf])
def test_keep_probability_outside_zero_one_raises(keep):
    with pytest.raises(ValueError, match=r"keep probability.*\(0, 1\]"):
        Dropout(keep)


def test_spec_sets_keep_probability():
    assert layer_from_spec("dropout:0.75").keep == 0.75


def test_float32_input_gives_float32_output():
    layer = built_dropout(keep=0.5, dtype="float32")
    out = layer.forward(np.ones((3, 6), dtype=np.float32), training=True)
    assert out.dtype == np.float32
