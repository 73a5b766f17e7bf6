"""The yardsticks next to the overhead pieces: each piece and its yardstick do the same
amount of work on the same memory, and the figures come back per piece."""

import numpy as np
import pytest

from benchmarks.bounds import epoch_bounds
from benchmarks.core import CLASSES, HIDDEN, INPUT_DIM, make_data


@pytest.fixture(scope="module")
def bounds():
    x, _ = make_data(n=2_000, seed=3)
    return epoch_bounds(x, batch=64, repeats=1)


def test_every_piece_has_a_positive_time_and_yardstick(bounds):
    assert set(bounds["pieces"]) == {"gather", "optimizer step", "tanh forward"}
    for name, p in bounds["pieces"].items():
        assert p["cpu_s"] >= 0 and p["yardstick_cpu_s"] >= 0, name
        if p["yardstick_cpu_s"]:
            assert p["ratio"] == pytest.approx(p["cpu_s"] / p["yardstick_cpu_s"])


def test_the_optimizer_yardstick_covers_exactly_the_networks_parameters(bounds):
    assert bounds["parameters"] == INPUT_DIM * HIDDEN + HIDDEN + HIDDEN * CLASSES + CLASSES


def test_steps_include_the_smaller_last_batch(bounds):
    assert bounds["steps"] == -(-2_000 // 64) == 32


def test_the_cost_of_a_numpy_call_is_a_finite_positive_time(bounds):
    assert 0 < bounds["call_s"] and np.isfinite(bounds["call_s"])


def test_bounds_leave_the_data_untouched():
    x, _ = make_data(n=500, seed=4)
    before = x.copy()
    epoch_bounds(x, batch=128, repeats=1)
    np.testing.assert_array_equal(x, before)
