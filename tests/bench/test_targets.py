"""Time to target: the first epoch at the target, and censoring of runs that never reach it."""

from __future__ import annotations

import math

from bench.targets import censored_median, format_censored, time_to_target


def _history(accuracies, seconds=2.0):
    return [{"epoch": i + 1, "val_accuracy": a, "seconds": seconds}
            for i, a in enumerate(accuracies)]


def test_first_epoch_at_or_above_the_target_and_the_seconds_up_to_it():
    t = time_to_target(_history([0.5, math.nan, 0.9, 0.95]), 0.9)
    assert (t.epoch, t.seconds, t.reached) == (3, 6.0, True)


def test_a_run_that_never_reaches_the_target_is_censored_at_its_epochs():
    t = time_to_target(_history([0.5, 0.89, 0.7]), 0.9)
    assert (t.epoch, t.seconds, t.reached, t.epochs_run) == (None, None, False, 3)


def test_a_censored_median_is_a_lower_bound_never_a_number():
    # three of five runs never reached it: the median is censored
    assert format_censored([4, 6, math.nan, math.nan, math.nan],
                           [True, True, False, False, False], [50] * 5) == ">50 (2/5)"


def test_the_median_is_a_number_when_the_middle_runs_reached_the_target():
    assert format_censored([4, 6, 8, math.nan, math.nan],
                           [True, True, True, False, False], [50] * 5) == "8 (3/5)"
    assert censored_median([4, 6, 8, math.nan], [True, True, True, False], [40] * 4) == (7.0, False)


def test_even_count_with_a_censored_middle_run_is_censored():
    assert censored_median([4, 6, math.nan, math.nan], [True, True, False, False],
                           [40, 40, 30, 40]) == (40.0, True)
