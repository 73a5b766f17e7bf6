"""Adaptive seeds: rounds replayed from the finished results, stopping at the target or cap."""

from __future__ import annotations

import math

import pytest
from scipy import stats as sps

from bench.adaptive import Precision

SPREAD = [0.90, 0.93, 0.88, 0.91, 0.89, 0.92, 0.90, 0.91, 0.89, 0.92, 0.90, 0.91] * 4


def results(n, values=SPREAD):
    return dict(enumerate(values[:n]))


def half_width(values):
    return sps.t.ppf(0.975, len(values) - 1) * sps.tstd(values) / math.sqrt(len(values))


def test_the_first_round_is_the_given_seeds():
    plan = Precision(0.005, 30).plan([0, 1, 2], {})
    assert plan.pending == [0, 1, 2] and plan.reason == ""


def test_an_arm_within_the_target_after_the_first_round_is_done():
    values = [0.900, 0.901, 0.899]
    plan = Precision(0.01, 30).plan([0, 1, 2], dict(enumerate(values)))
    assert half_width(values) <= 0.01
    assert plan.pending == [] and plan.reason == "target met" and plan.seeds == [0, 1, 2]


def test_a_wide_arm_gets_the_seeds_its_spread_asks_for_continuing_after_the_last():
    plan = Precision(0.01, 30).plan([0, 1, 2], results(3))
    assert plan.pending[0] == 3 and plan.pending == list(range(3, 3 + len(plan.pending)))
    n = len(plan.seeds)
    s = sps.tstd(SPREAD[:3])
    assert sps.t.ppf(0.975, n - 1) * s / math.sqrt(n) <= 0.01
    assert sps.t.ppf(0.975, n - 2) * s / math.sqrt(n - 1) > 0.01


def test_rounds_stop_once_the_interval_meets_the_target():
    precision = Precision(0.01, 30)
    done = results(3)
    while (plan := precision.plan([0, 1, 2], done)).pending:
        done.update({s: SPREAD[s] for s in plan.pending})
    assert plan.reason == "target met"
    assert half_width([done[s] for s in plan.seeds]) <= 0.01


def test_the_cap_stops_an_arm_that_never_meets_the_target():
    precision = Precision(0.0001, 6)
    done = results(3)
    while (plan := precision.plan([0, 1, 2], done)).pending:
        done.update({s: SPREAD[s] for s in plan.pending})
    assert plan.reason == "max seeds reached" and plan.seeds == list(range(6))


def test_replaying_after_an_interruption_gives_the_uninterrupted_seeds():
    """Round 2 half done when interrupted: the replay asks for the rest of round 2 only."""
    precision = Precision(0.01, 30)
    round2 = precision.plan([0, 1, 2], results(3)).pending
    done = {**results(3), **{s: SPREAD[s] for s in round2[:2]}}
    assert precision.plan([0, 1, 2], done).pending == round2[2:]


def test_failed_seeds_are_not_asked_for_again():
    plan = Precision(0.01, 30).plan([0, 1, 2], results(2), failed=frozenset({2}))
    assert 2 not in plan.pending


@pytest.mark.parametrize("target, most", [(0.0, 10), (-0.01, 10), (math.nan, 10), (0.01, 1)])
def test_bad_settings_are_refused(target, most):
    with pytest.raises(ValueError):
        Precision(target, most)
