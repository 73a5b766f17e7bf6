"""Initialiser sample statistics, with tolerances of five standard errors for the sample size."""

import math

import numpy as np
import pytest

from nn_core import Dense, get_initializer, layer_from_spec

FAN_IN, FAN_OUT = 300, 500
N = FAN_IN * FAN_OUT


def sample(name, shape=(FAN_IN, FAN_OUT), dtype=np.float64, seed=0, **kwargs):
    return get_initializer(name, **kwargs)(shape, np.random.default_rng(seed), np.dtype(dtype))


def assert_normal_with_std(w, std):
    # Sample mean: standard error std / sqrt(n). Sample std of a normal: std / sqrt(2n).
    assert abs(w.mean()) <= 5 * std / math.sqrt(w.size)
    assert abs(w.std() - std) <= 5 * std / math.sqrt(2 * w.size)


def assert_uniform_with_limit(w, limit):
    assert np.all(np.abs(w) <= limit)
    assert np.abs(w).max() >= limit * (1 - 1e-3)  # the range is used up to its ends
    # Var(U(-a, a)) = a^2 / 3; the sample second moment has variance E[x^4] - E[x^2]^2 = 4a^4/45.
    assert abs(np.mean(w ** 2) - limit ** 2 / 3) <= 5 * math.sqrt(4 * limit ** 4 / 45 / w.size)


def test_glorot_normal_std_is_root_two_over_fan_in_plus_fan_out():
    assert_normal_with_std(sample("glorot_normal"), math.sqrt(2 / (FAN_IN + FAN_OUT)))


def test_glorot_uniform_is_bounded_by_root_six_over_fan_sum_with_matching_variance():
    assert_uniform_with_limit(sample("glorot_uniform"), math.sqrt(6 / (FAN_IN + FAN_OUT)))


def test_he_normal_std_is_root_two_over_fan_in():
    assert_normal_with_std(sample("he_normal"), math.sqrt(2 / FAN_IN))


def test_he_uniform_is_bounded_by_root_six_over_fan_in():
    assert_uniform_with_limit(sample("he_uniform"), math.sqrt(6 / FAN_IN))


def test_compact_normal_spec_uses_the_given_std():
    assert_normal_with_std(sample("normal:0.05"), 0.05)


def test_normal_with_std_keyword_uses_the_given_std():
    assert_normal_with_std(sample("normal", std=0.05), 0.05)


def test_dense_spec_with_normal_init_and_std_keyword_uses_that_std():
    layer = layer_from_spec("dense:400:init=normal:std=0.05")
    layer.build(300, np.random.default_rng(0), np.dtype("float64"))
    assert_normal_with_std(layer.W.value, 0.05)


def test_unit_normal_has_std_one():
    assert_normal_with_std(sample("unit_normal"), 1.0)


def test_zeros_is_all_zero():
    assert np.all(sample("zeros") == 0.0)


@pytest.mark.parametrize("name", ["glorot_normal", "glorot_uniform", "he_normal", "he_uniform",
                                  "unit_normal", "normal:0.1", "zeros"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_initialiser_returns_requested_shape_and_dtype(name, dtype):
    w = sample(name, shape=(7, 3), dtype=dtype)
    assert w.shape == (7, 3)
    assert w.dtype == dtype


def test_same_generator_seed_gives_same_weights():
    assert np.array_equal(sample("glorot_normal", seed=3), sample("glorot_normal", seed=3))


def test_different_generator_seeds_give_different_weights():
    assert not np.array_equal(sample("glorot_normal", seed=3), sample("glorot_normal", seed=4))


@pytest.mark.parametrize("init", ["glorot_normal", "he_uniform", "normal:0.05"])
def test_dense_biases_start_at_zero_whatever_the_weight_initialiser(init):
    layer = Dense(40, init=init)
    layer.build(30, np.random.default_rng(0), np.dtype("float64"))
    assert np.all(layer.b.value == 0.0)
    assert np.any(layer.W.value != 0.0)


def test_unknown_initialiser_names_it_and_lists_valid_ones():
    with pytest.raises(ValueError) as info:
        get_initializer("xavier_magic")
    message = str(info.value)
    assert "'xavier_magic'" in message
    for valid in ["glorot_normal", "glorot_uniform", "he_normal", "he_uniform", "normal",
                  "unit_normal", "zeros"]:
        assert valid in message


def test_dense_with_unknown_initialiser_raises_at_construction():
    with pytest.raises(ValueError, match="'bogus'"):
        Dense(4, init="bogus")


def test_normal_without_std_raises():
    with pytest.raises(ValueError, match="needs a standard deviation"):
        get_initializer("normal")


@pytest.mark.parametrize("spec", ["normal:abc", "normal:-0.1", "normal:0", "normal:nan"])
def test_normal_with_bad_std_raises(spec):
    with pytest.raises(ValueError):
        get_initializer(spec)


def test_std_for_an_initialiser_that_takes_none_raises():
    with pytest.raises(ValueError, match="takes no standard deviation"):
        get_initializer("he_normal", std=0.1)


def test_initialiser_rejects_non_matrix_shape():
    with pytest.raises(ValueError, match="2-D"):
        sample("glorot_normal", shape=(3, 4, 5))
