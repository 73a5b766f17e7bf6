"""Confidence intervals over seeds and paired comparisons, against formulas computed here."""

from __future__ import annotations

import math

import pytest
from scipy import stats as sps

from statsmodels.stats.power import TTestIndPower, TTestPower

from bench.stats import (binomial_half_width, compare, correct_family, holm,
                         seeds_for_half_width, t_interval)

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


def test_t_interval_leaves_out_nan_values_and_counts_them():
    got = t_interval([math.nan, 0.5, 0.7, math.nan, 0.9])
    mean, low, high = hand_interval([0.5, 0.7, 0.9])
    assert (got.n, got.missing) == (3, 2)
    assert (got.mean, got.low, got.high) == pytest.approx((mean, low, high), rel=1e-12)


def test_an_infinite_value_makes_the_mean_infinite_and_the_interval_undefined():
    got = t_interval([0.5, math.inf, 0.7])
    assert got.mean == math.inf and got.n == 3
    assert math.isnan(got.low) and math.isnan(got.high)


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


# -- compare --------------------------------------------------------------------------------------

A = {0: 0.91, 1: 0.93, 2: 0.90, 3: 0.95, 4: 0.92}
B = {0: 0.89, 1: 0.92, 2: 0.90, 3: 0.91, 4: 0.88}


def test_paired_p_value_equals_scipys_paired_t_test():
    seeds = sorted(A)
    want = sps.ttest_rel([A[s] for s in seeds], [B[s] for s in seeds]).pvalue
    got = compare(A, B, paired=True)
    assert got.test == "paired t"
    assert got.p_value == pytest.approx(want, rel=1e-12)


def test_unpaired_runs_get_welchs_test_and_its_interval():
    got = compare(A, B, paired=False)
    a, b = list(A.values()), list(B.values())
    assert got.test == "Welch t"
    assert got.p_value == pytest.approx(sps.ttest_ind(a, b, equal_var=False).pvalue, rel=1e-12)
    ci = sps.ttest_ind(a, b, equal_var=False).confidence_interval(0.95)
    assert (got.diff.low, got.diff.high) == pytest.approx((ci.low, ci.high), rel=1e-10)


def test_paired_interval_is_the_t_interval_of_the_per_seed_differences():
    diffs = [A[s] - B[s] for s in sorted(A)]
    got = compare(A, B, paired=True).diff
    assert (got.mean, got.low, got.high) == pytest.approx(hand_interval(diffs), rel=1e-12)
    assert got.n == 5


def test_paired_effect_size_is_d_z_and_the_correlation_is_pearsons():
    diffs = [A[s] - B[s] for s in sorted(A)]
    got = compare(A, B, paired=True)
    mean, sd = sum(diffs) / 5, math.sqrt(sum((d - sum(diffs) / 5) ** 2 for d in diffs) / 4)
    assert got.effect == pytest.approx(mean / sd, rel=1e-12)
    r = sps.pearsonr([A[s] for s in sorted(A)], [B[s] for s in sorted(A)]).statistic
    assert got.correlation == pytest.approx(r, rel=1e-12)


def test_welch_effect_size_is_hedges_g():
    a, b = list(A.values()), list(B.values())
    pooled = math.sqrt((4 * sps.tvar(a) + 4 * sps.tvar(b)) / 8)
    want = (sum(a) / 5 - sum(b) / 5) / pooled * (1 - 3 / (4 * 10 - 9))
    assert compare(A, B, paired=False).effect == pytest.approx(want, rel=1e-12)


def test_difference_is_a_minus_b():
    assert compare(A, B, paired=True).diff.mean > 0
    assert compare(B, A, paired=True).diff.mean == pytest.approx(-compare(A, B, paired=True).diff.mean)


def test_only_seeds_both_arms_have_are_paired():
    a = {**A, 7: 0.10}
    b = {s: v for s, v in B.items() if s != 0} | {9: 0.99}
    shared = [1, 2, 3, 4]
    got = compare(a, b, paired=True)
    assert got.diff.n == 4
    assert got.diff.mean == pytest.approx(sum(a[s] - b[s] for s in shared) / 4)


def test_seeds_with_a_non_finite_value_in_either_arm_are_left_out_and_counted():
    got = compare({**A, 1: math.nan}, {**B, 3: math.inf}, paired=True)
    assert (got.diff.n, got.dropped) == (3, 2)
    assert got.diff.mean == pytest.approx(sum(A[s] - B[s] for s in (0, 2, 4)) / 3)


def test_one_shared_seed_is_flagged_without_interval_or_test():
    got = correct_family([compare({0: 0.9, 1: 0.8}, {1: 0.7, 2: 0.6}, paired=True)])[0]
    assert got.diff.n == 1 and got.diff.mean == pytest.approx(0.1)
    assert math.isnan(got.diff.low) and math.isnan(got.p_value)
    assert got.verdict == "1 seed: no test"


def test_no_shared_seed_says_so():
    got = correct_family([compare({0: 0.9}, {1: 0.7}, paired=True)])[0]
    assert got.diff.n == 0 and math.isnan(got.diff.mean)
    assert got.verdict == "no shared seeds"


def test_identical_arms_have_zero_difference_and_p_value_1():
    got = correct_family([compare(A, dict(A), paired=True)])[0]
    assert got.diff.mean == 0 and got.p_value == 1.0
    assert got.verdict == "no detectable difference"


def test_a_constant_nonzero_difference_gets_a_definite_answer():
    got = correct_family([compare({0: 0.5, 1: 0.75, 2: 0.625}, {0: 0.25, 1: 0.5, 2: 0.375},
                                  paired=True)])[0]
    assert got.diff.mean == pytest.approx(0.25)
    assert got.p_value == 0.0 and got.verdict == "better"


# -- Holm ------------------------------------------------------------------------------------------

def test_holm_matches_a_hand_computed_example():
    # sorted: 0.005*4 = 0.02, 0.01*3 = 0.03, 0.03*2 = 0.06, 0.04*1 = 0.04 -> max so far 0.06
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])


def test_holm_caps_at_one_and_leaves_nan_out_of_the_family():
    got = holm([0.5, math.nan, 0.6])
    assert got[0] == pytest.approx(1.0) and got[2] == pytest.approx(1.0)
    assert math.isnan(got[1])
    assert holm([0.02, math.nan]) == pytest.approx([0.02, math.nan], nan_ok=True)


def test_verdict_uses_the_adjusted_p_value():
    # Alone it passes at 0.05 (p = 0.019); corrected over a family of three it does not.
    c = {s: v - d for (s, v), d in zip(A.items(), [0.01, 0.02, 0.002, 0.015, 0.01])}
    family = [compare(A, c, paired=True), compare(A, dict(A), paired=True),
              compare(B, dict(B), paired=True)]
    raw = family[0].p_value
    assert raw < 0.05
    got = correct_family(family)
    assert got[0].p_adjusted == pytest.approx(3 * raw)
    assert got[0].verdict == "no detectable difference"
    assert correct_family(family[:1])[0].verdict == "better"
    assert got[0].alpha == pytest.approx(0.05 / 3)


# -- power -----------------------------------------------------------------------------------------

def test_detectable_difference_is_statsmodels_minimum_effect_times_the_sd():
    got = correct_family([compare(A, B, paired=True), compare(B, A, paired=True)])[0]
    d_min = TTestPower().solve_power(effect_size=None, nobs=5, alpha=0.025, power=0.8)
    assert got.detectable == pytest.approx(d_min * got.sd, rel=1e-6)
    assert TTestPower().power(got.detectable / got.sd, nobs=5, alpha=0.025) == pytest.approx(0.8, abs=1e-4)


def test_seeds_needed_is_the_smallest_count_with_80_percent_power():
    got = correct_family([compare(A, B, paired=True)])[0]
    n = got.seeds_needed
    assert TTestPower().power(abs(got.effect), nobs=n, alpha=0.05) >= 0.8
    assert TTestPower().power(abs(got.effect), nobs=n - 1, alpha=0.05) < 0.8


def test_welch_power_uses_the_two_sample_model():
    got = correct_family([compare(A, B, paired=False)])[0]
    d_min = TTestIndPower().solve_power(effect_size=None, nobs1=5, alpha=0.05, power=0.8)
    assert got.detectable == pytest.approx(d_min * got.sd, rel=1e-6)


# -- sampling error and seeds for a target width ------------------------------------------------------

def test_binomial_half_width_of_one_accuracy():
    assert binomial_half_width(0.9, 1000) == pytest.approx(1.959964 * math.sqrt(0.09 / 1000), rel=1e-6)


def test_seeds_for_half_width_is_the_first_n_meeting_the_target():
    values = [0.90, 0.92, 0.88, 0.91, 0.89]
    s = sps.tstd(values)
    n = seeds_for_half_width(values, 0.005)
    assert sps.t.ppf(0.975, n - 1) * s / math.sqrt(n) <= 0.005
    assert sps.t.ppf(0.975, n - 2) * s / math.sqrt(n - 1) > 0.005


@pytest.mark.parametrize("n", [3, 5, 10])
@pytest.mark.parametrize("effect", [0.3, 1.0, 2.5])
def test_power_formula_agrees_with_statsmodels(n, effect):
    from bench.stats import _power
    assert _power("paired t", effect, n, 0.01) == pytest.approx(
        TTestPower().power(effect, nobs=n, alpha=0.01), rel=1e-6)
    assert _power("Welch t", effect, n, 0.01) == pytest.approx(
        TTestIndPower().power(effect, nobs1=n, alpha=0.01), rel=1e-6)


def test_two_seeds_are_not_claimed_to_suffice_where_they_do_not():
    from bench.stats import _nobs, _power
    n = _nobs("paired t", 7.27, 0.05 / 12)
    assert _power("paired t", 7.27, n, 0.05 / 12) >= 0.8 > _power("paired t", 7.27, n - 1, 0.05 / 12)
    assert n > 2
