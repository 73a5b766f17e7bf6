"""The tuning-curve estimator (Dodge et al. 2019) against hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest

from bench.search.tuning_curve import expected_max, ranking_stable_since, tuning_curve

SCORES = [0.5, 0.2, 0.9]  # sorted: 0.2, 0.5, 0.9; n = 3


def test_expected_max_of_one_draw_is_the_mean():
    assert expected_max(SCORES, 1)[0] == pytest.approx((0.2 + 0.5 + 0.9) / 3)


def test_expected_max_of_two_draws_with_replacement_matches_the_hand_computation():
    # P(max = 0.2) = (1/3)^2 = 1/9, P(max = 0.5) = (2/3)^2 - 1/9 = 3/9, P(max = 0.9) = 5/9
    mean, sd = expected_max(SCORES, 2)
    assert mean == pytest.approx((0.2 * 1 + 0.5 * 3 + 0.9 * 5) / 9)  # 0.68889
    second = (0.04 * 1 + 0.25 * 3 + 0.81 * 5) / 9
    assert sd == pytest.approx(np.sqrt(second - mean ** 2))


def test_expected_max_without_replacement_averages_the_best_of_each_pair():
    # pairs {0.2, 0.5}, {0.2, 0.9}, {0.5, 0.9}: best 0.5, 0.9, 0.9
    assert expected_max(SCORES, 2, replace=False)[0] == pytest.approx((0.5 + 0.9 + 0.9) / 3)
    assert expected_max(SCORES, 3, replace=False) == pytest.approx((0.9, 0.0))


def test_with_replacement_is_below_the_unbiased_value_at_k_equal_n():
    # k = n: without replacement the best trial is always drawn; with it, not always.
    assert expected_max(SCORES, 3)[0] < expected_max(SCORES, 3, replace=False)[0]


def test_the_curve_rises_with_k_and_its_band_stays_within_the_scores():
    curve = tuning_curve(SCORES, 10)
    assert np.all(np.diff(curve["mean"]) > 0)
    assert curve["low"].min() >= 0.2 and curve["high"].max() <= 0.9


def test_ranking_stable_since_finds_where_the_order_stops_changing():
    # "steady" is best at k = 1 (higher mean); "spiky" has the higher max and overtakes it.
    curves = {"steady": tuning_curve([0.80, 0.81, 0.82], 20),
              "spiky": tuning_curve([0.10, 0.20, 0.95], 20)}
    since = ranking_stable_since(curves, 20)
    assert curves["steady"]["mean"][since - 2] > curves["spiky"]["mean"][since - 2]
    assert curves["spiky"]["mean"][since - 1] > curves["steady"]["mean"][since - 1]
    assert ranking_stable_since({"a": tuning_curve([0.1, 0.2], 5),
                                 "b": tuning_curve([0.3, 0.4], 5)}, 5) == 1
