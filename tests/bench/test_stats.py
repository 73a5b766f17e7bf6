"""Confidence intervals over seeds and paired comparisons, against formulas computed here."""

from __future__ import annotations

import math

import pytest
from scipy import stats as sps

from bench.stats import paired_difference, t_interval

VALUES = [0.912, 0.934, 0.905, 0.951, 0.923]


def hand_interval(xs, confidence=0.95):
    """mean ± t_{(1+c)/2, n-1} * s / sqrt(n), with s the n-1 sample standard deviation."""
    n = len(xs)
    mean = sum(xs) / n
    s = math.sqrt(sum((x - mean) ** 2 for x in xs) / (n - 1))
    half = sps.t.ppf((1 + confidence) / 2, n - 1) * s / math.sqrt(n)
    return mean, mean - half, mean + half


# -- t_interval ------------------------------------------------------------------------------------

def test_t_interval_matches_the_hand_formula():
    got = t_interval(VALUES)
    mean, low, high = hand_interval(VALUES)
    assert (got.mean, got.low, got.high, got.n) == pytest.approx((mean, low, high, 5), rel=1e-12)


def test_t_interval_uses_the_requested_confidence():
    got = t_interval(VALUES, confidence=0.8)
    _, low, high = hand_interval(VALUES, 0.8)
    assert (got.low, got.high) == pytest.approx((low, high), rel=1e-12)
    assert got.half_width < t_interval(VALUES).half_width


def test_half_width_is_half_the_interval():
    got = t_interval(VALUES)
    assert got.half_width == pytest.approx((got.high - got.low) / 2)
    assert got.mean - got.low == pytest.approx(got.half_width)


def test_t_interval_ignores_non_finite_values():
    got = t_interval([math.nan, 0.5, math.inf, 0.7, -math.inf, 0.9])
    mean, low, high = hand_interval([0.5, 0.7, 0.9])
    assert got.n == 3
    assert (got.mean, got.low, got.high) == pytest.approx((mean, low, high), rel=1e-12)


def test_t_interval_of_one_value_has_its_mean_and_no_bounds():
    got = t_interval([0.87])
    assert got.n == 1 and got.mean == 0.87
    assert math.isnan(got.low) and math.isnan(got.high)


@pytest.mark.parametrize("values", [[], [math.nan, math.nan]], ids=["empty", "all-nan"])
def test_t_interval_of_no_values_is_all_nan(values):
    got = t_interval(values)
    assert got.n == 0
    assert all(math.isnan(v) for v in (got.mean, got.low, got.high))


def test_identical_values_give_a_zero_width_interval():
    got = t_interval([0.9, 0.9, 0.9])
    assert got.low == got.mean == got.high == pytest.approx(0.9)


# -- paired_difference -----------------------------------------------------------------------------

A = {0: 0.91, 1: 0.93, 2: 0.90, 3: 0.95, 4: 0.92}
B = {0: 0.89, 1: 0.92, 2: 0.90, 3: 0.91, 4: 0.88}


def test_paired_p_value_equals_scipys_paired_t_test():
    seeds = sorted(A)
    want = sps.ttest_rel([A[s] for s in seeds], [B[s] for s in seeds]).pvalue
    assert paired_difference(A, B).p_value == pytest.approx(want, rel=1e-12)


def test_paired_interval_is_the_t_interval_of_the_per_seed_differences():
    diffs = [A[s] - B[s] for s in sorted(A)]
    got = paired_difference(A, B).diff
    assert (got.mean, got.low, got.high) == pytest.approx(hand_interval(diffs), rel=1e-12)
    assert got.n == 5


def test_paired_difference_is_a_minus_b():
    assert paired_difference(A, B).diff.mean > 0
    assert paired_difference(B, A).diff.mean == pytest.approx(-paired_difference(A, B).diff.mean)


def test_only_seeds_both_arms_have_are_compared():
    a = {**A, 7: 0.10}          # seed 7 only in a
    b = {s: v for s, v in B.items() if s != 0} | {9: 0.99}  # seed 0 missing, seed 9 extra
    shared = [1, 2, 3, 4]
    got = paired_difference(a, b)
    assert got.diff.n == 4
    assert got.diff.mean == pytest.approx(sum(a[s] - b[s] for s in shared) / 4)
    want_p = sps.ttest_rel([a[s] for s in shared], [b[s] for s in shared]).pvalue
    assert got.p_value == pytest.approx(want_p, rel=1e-12)


def test_seeds_with_a_non_finite_value_in_either_arm_are_left_out():
    a = {**A, 1: math.nan}
    b = {**B, 3: math.inf}
    got = paired_difference(a, b)
    assert got.diff.n == 3
    assert got.diff.mean == pytest.approx(sum(A[s] - B[s] for s in (0, 2, 4)) / 3)


def test_one_shared_seed_gives_a_difference_without_interval_or_p_value():
    got = paired_difference({0: 0.9, 1: 0.8}, {1: 0.7, 2: 0.6})
    assert got.diff.n == 1 and got.diff.mean == pytest.approx(0.1)
    assert math.isnan(got.diff.low) and math.isnan(got.p_value)


def test_no_shared_seed_gives_nan_everywhere():
    got = paired_difference({0: 0.9}, {1: 0.7})
    assert got.diff.n == 0
    assert math.isnan(got.diff.mean) and math.isnan(got.p_value)


def test_identical_arms_have_zero_difference_and_p_value_1():
    got = paired_difference(A, dict(A))
    assert got.diff.mean == 0 and got.p_value == 1.0


def test_a_constant_nonzero_difference_has_no_p_value():
    # Zero variance: the t statistic is undefined, so no p-value is claimed.
    got = paired_difference({0: 0.5, 1: 0.75, 2: 0.625}, {0: 0.25, 1: 0.5, 2: 0.375})
    assert got.diff.mean == pytest.approx(0.25)
    assert math.isnan(got.p_value)
